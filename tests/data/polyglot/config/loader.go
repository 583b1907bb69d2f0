package config

import (
	"encoding/json"
	"os"
)

// Settings holds the application's configuration values.
type Settings struct {
	Port     int    `json:"port"`
	LogLevel string `json:"log_level"`
}

// LoadSettings reads a JSON configuration file from disk and decodes it.
func LoadSettings(path string) (*Settings, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var settings Settings
	if err := json.Unmarshal(data, &settings); err != nil {
		return nil, err
	}
	return &settings, nil
}

// Validate checks that the port number is in range.
func (s *Settings) Validate() bool {
	return s.Port > 0 && s.Port < 65536
}
