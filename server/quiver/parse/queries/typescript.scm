; TypeScript and TSX symbols (the TSX grammar shares these node types).
; Capture conventions: see quiver/parse/extract.py.
; `export`, `declare` and `const`/`let` wrappers widen the range; a function
; or arrow function assigned to a name is a function of that name.

(function_declaration
  name: (identifier) @name
  body: (statement_block) @body) @definition.function

(generator_function_declaration
  name: (identifier) @name
  body: (statement_block) @body) @definition.function

; Overload signatures and `declare function`.
(function_signature
  name: (identifier) @name) @definition.function

(class_declaration
  name: (type_identifier) @name
  body: (class_body) @body) @definition.class

(abstract_class_declaration
  name: (type_identifier) @name
  body: (class_body) @body) @definition.class

(interface_declaration
  name: (type_identifier) @name
  body: (interface_body) @body) @definition.interface

(enum_declaration
  name: (identifier) @name
  body: (enum_body) @body) @definition.enum

(enum_body
  name: (property_identifier) @name @definition.enum_member)

(enum_body
  (enum_assignment
    name: (property_identifier) @name) @definition.enum_member)

(type_alias_declaration
  name: (type_identifier) @name) @definition.type_parameter

(internal_module
  name: (_) @name
  body: (statement_block)? @body) @definition.namespace

(module
  name: (_) @name
  body: (statement_block)? @body) @definition.module

(method_definition
  name: (_) @name
  body: (statement_block) @body) @definition.method

; Members of interfaces and of object types named by `type X = { ... }`
; (not of inline type literals such as a parameter's `{ label: string }`).
(interface_body
  (method_signature
    name: (_) @name) @definition.method)

(type_alias_declaration
  value: (object_type
    (method_signature
      name: (_) @name) @definition.method))

(interface_body
  (property_signature
    name: (_) @name) @definition.property)

(type_alias_declaration
  value: (object_type
    (property_signature
      name: (_) @name) @definition.property))

(abstract_method_signature
  name: (_) @name) @definition.method

; Class fields holding a function are methods, those holding a class
; expression (`static Node = class { ... }`) nested classes;
; other fields are fields.
(public_field_definition
  name: (_) @name
  value: [
    (arrow_function body: (_) @body)
    (function_expression body: (_) @body)
  ]) @definition.method

(public_field_definition
  name: (_) @name
  value: (class body: (class_body) @body)) @definition.class

(public_field_definition
  name: (_) @name) @definition.field

; `const f = () => ...`, `let g = function () {}`, `const C = class {}`.
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
