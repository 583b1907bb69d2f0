; C++ symbols. Capture conventions: see quiver/parse/extract.py.
; No module part: namespaces are symbols. `template<...>` widens the range.
; `void A::f() {}` is a method of A (container gets `A`), unless A is a
; namespace declared in the same file; `A::A()` is A's constructor.

(namespace_definition
  name: (_) @name
  body: (declaration_list) @body) @definition.namespace

(function_definition
  declarator: [
    (function_declarator declarator: (_) @name)
    (pointer_declarator declarator: (function_declarator declarator: (_) @name))
    (reference_declarator (function_declarator declarator: (_) @name))
  ]
  body: (compound_statement) @body) @definition.function

; A lambda bound to a name is a function of that name, at any scope
; (`auto sq = [](int x) { ... };`, `std::function<void()> f = [] { ... };`);
; in a class body (`static inline auto cmp = [](...) { ... };`) a method.
(declaration
  declarator: (init_declarator
    declarator: (identifier) @name
    value: (lambda_expression body: (compound_statement) @body))) @definition.function

(field_declaration
  declarator: (field_identifier) @name
  default_value: (lambda_expression body: (compound_statement) @body)) @definition.function

; Prototypes: in headers and inside class bodies (there they are methods).
(declaration
  declarator: [
    (function_declarator declarator: (_) @name)
    (pointer_declarator declarator: (function_declarator declarator: (_) @name))
    (reference_declarator (function_declarator declarator: (_) @name))
  ]) @definition.function

(field_declaration
  declarator: [
    (function_declarator declarator: (_) @name)
    (pointer_declarator declarator: (function_declarator declarator: (_) @name))
    (reference_declarator (function_declarator declarator: (_) @name))
  ]) @definition.function

(class_specifier
  name: (_) @name
  body: (field_declaration_list) @body) @definition.class

(struct_specifier
  name: (_) @name
  body: (field_declaration_list) @body) @definition.struct

(union_specifier
  name: (_) @name
  body: (field_declaration_list) @body) @definition.struct

(enum_specifier
  name: (_) @name
  body: (enumerator_list) @body) @definition.enum

(enumerator
  name: (identifier) @name) @definition.enum_member

(type_definition
  type: [(struct_specifier !name body: (_) @body) (class_specifier !name body: (_) @body)]
  declarator: (type_identifier) @name) @definition.struct

(type_definition
  declarator: (type_identifier) @name) @definition.type_parameter

(alias_declaration
  name: (type_identifier) @name) @definition.type_parameter

(concept_definition
  name: (identifier) @name) @definition.interface

(field_declaration_list
  (field_declaration
    declarator: [
      (field_identifier) @name
      (pointer_declarator declarator: (field_identifier) @name)
      (reference_declarator (field_identifier) @name)
      (array_declarator declarator: (field_identifier) @name)
    ]) @definition.field)

(preproc_def
  name: (identifier) @name
  value: (_)) @definition.constant

(preproc_function_def
  name: (identifier) @name) @definition.function
