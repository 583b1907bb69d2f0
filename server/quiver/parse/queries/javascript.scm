; JavaScript (and JSX) symbols. Capture conventions: see quiver/parse/extract.py.
; `export` and `const`/`let`/`var` wrappers widen the range; a function or
; arrow function assigned to a name is a function of that name.

(function_declaration
  name: (identifier) @name
  body: (statement_block) @body) @definition.function

(generator_function_declaration
  name: (identifier) @name
  body: (statement_block) @body) @definition.function

(class_declaration
  name: (identifier) @name
  body: (class_body) @body) @definition.class

(method_definition
  name: (_) @name
  body: (statement_block) @body) @definition.method

; Class fields holding a function are methods, those holding a class
; expression (`static Node = class { ... }`) nested classes;
; other fields are fields.
(field_definition
  property: (_) @name
  value: [
    (arrow_function body: (_) @body)
    (function_expression body: (_) @body)
  ]) @definition.method

(field_definition
  property: (_) @name
  value: (class body: (class_body) @body)) @definition.class

(field_definition
  property: (_) @name) @definition.field

; `const f = () => ...`, `let g = function () {}`, `var h = function* () {}`.
(variable_declarator
  name: (identifier) @name
  value: [
    (arrow_function body: (_) @body)
    (function_expression body: (_) @body)
    (generator_function body: (_) @body)
  ]) @definition.function

(variable_declarator
  name: (identifier) @name
  value: (class body: (class_body) @body)) @definition.class

; Module-level UPPER_CASE constants.
(program
  (lexical_declaration
    (variable_declarator
      name: (identifier) @name) @definition.constant)
  (#match? @name "^_*[A-Z][A-Z0-9_]*$"))

(program
  (export_statement
    (lexical_declaration
      (variable_declarator
        name: (identifier) @name) @definition.constant))
  (#match? @name "^_*[A-Z][A-Z0-9_]*$"))

; `exports.f = function () {}`, `Foo.prototype.bar = () => {}`.
(assignment_expression
  left: (member_expression
    property: (property_identifier) @name)
  right: [
    (arrow_function body: (_) @body)
    (function_expression body: (_) @body)
  ]) @definition.function
