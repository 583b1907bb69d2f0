/// Splits source text into lowercase words for the search index.
pub struct WordTokenizer {
    min_length: usize,
}

impl WordTokenizer {
    pub fn new(min_length: usize) -> Self {
        WordTokenizer { min_length }
    }

    /// Break a camelCase or snake_case identifier into its words.
    pub fn split_identifier(&self, identifier: &str) -> Vec<String> {
        let mut words = Vec::new();
        let mut current = String::new();
        for ch in identifier.chars() {
            if ch == '_' || (ch.is_uppercase() && !current.is_empty()) {
                if current.len() >= self.min_length {
                    words.push(current.to_lowercase());
                }
                current = String::new();
            }
            if ch != '_' {
                current.push(ch);
            }
        }
        if current.len() >= self.min_length {
            words.push(current.to_lowercase());
        }
        words
    }
}

/// Count how often each word occurs in a document.
pub fn word_frequencies(words: &[String]) -> std::collections::HashMap<String, usize> {
    let mut counts = std::collections::HashMap::new();
    for word in words {
        *counts.entry(word.clone()).or_insert(0) += 1;
    }
    counts
}
