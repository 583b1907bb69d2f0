; Rust symbols. Capture conventions: see quiver/parse/extract.py.
; `impl` blocks are scopes, not symbols: their functions become methods of
; the implementing type (`impl Trait for Foo<T>` → container `...Foo`).

(impl_item
  type: (_) @scope.name) @scope

(function_item
  name: (identifier) @name
  body: (block) @body) @definition.function

; A closure bound by `let` is a function of that name (in the enclosing fn).
(let_declaration
  pattern: (identifier) @name
  value: (closure_expression body: (_) @body)) @definition.function

; Trait methods without a default body.
(function_signature_item
  name: (identifier) @name) @definition.method

(struct_item
  name: (type_identifier) @name
  body: (field_declaration_list)? @body) @definition.struct

(union_item
  name: (type_identifier) @name
  body: (field_declaration_list)? @body) @definition.struct

(enum_item
  name: (type_identifier) @name
  body: (enum_variant_list) @body) @definition.enum

(enum_variant
  name: (identifier) @name) @definition.enum_member

(trait_item
  name: (type_identifier) @name
  body: (declaration_list) @body) @definition.interface

(mod_item
  name: (identifier) @name
  body: (declaration_list)? @body) @definition.module

(type_item
  name: (type_identifier) @name) @definition.type_parameter

(const_item
  name: (identifier) @name) @definition.constant

(static_item
  name: (identifier) @name) @definition.constant

(macro_definition
  name: (identifier) @name) @definition.function

(field_declaration_list
  (field_declaration
    name: (field_identifier) @name) @definition.field)
