// ESLint flat config: typescript-eslint's type-aware rules on the sources and tests.
import js from "@eslint/js";
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["out/**", "dist/**", "node_modules/**", "*.vsix"] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      "@typescript-eslint/no-floating-promises": [
        "error",
        {
          // node:test's describe/it return promises the runner itself awaits.
          allowForKnownSafeCalls: [
            { from: "package", package: "node:test", name: ["describe", "it", "test", "suite"] },
          ],
        },
      ],
      "@typescript-eslint/consistent-type-imports": ["error", { fixStyle: "inline-type-imports" }],
      eqeqeq: ["error", "always"],
      curly: "error",
    },
  },
  {
    // The logic that is unit-tested in plain Node must not depend on VS Code.
    files: [
      "src/protocol.ts",
      "src/format.ts",
      "src/debounce.ts",
      "src/serverCommand.ts",
      "src/serverProbe.ts",
      "src/serverSetup.ts",
      "src/status.ts",
      "src/settings.ts",
      "test/**/*.ts",
    ],
    rules: {
      "no-restricted-imports": [
        "error",
        {
          paths: [{ name: "vscode", message: "Keep this module free of VS Code so it runs in plain Node tests." }],
          patterns: [
            { group: ["vscode-languageclient", "vscode-languageclient/*"], message: "It imports `vscode`; use vscode-languageserver-protocol." },
            { group: ["**/client", "**/search", "**/statusBar", "**/extension"], message: "That module imports `vscode`." },
          ],
        },
      ],
    },
  },
  {
    files: ["*.mjs"],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: {
      ...tseslint.configs.disableTypeChecked.languageOptions,
      globals: { process: "readonly" },
    },
  },
);
