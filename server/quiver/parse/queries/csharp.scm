; C# symbols. Capture conventions: see quiver/parse/extract.py.
; Block namespaces are symbols; a file-scoped `namespace X;` is the module
; part of every container after it.

(file_scoped_namespace_declaration
  name: (_) @module)

(namespace_declaration
  name: (_) @name
  body: (declaration_list) @body) @definition.namespace

(class_declaration
  name: (identifier) @name
  body: (declaration_list) @body) @definition.class

(record_declaration
  name: (identifier) @name
  body: (declaration_list)? @body) @definition.class

(struct_declaration
  name: (identifier) @name
  body: (declaration_list) @body) @definition.struct

(interface_declaration
  name: (identifier) @name
  body: (declaration_list) @body) @definition.interface

(enum_declaration
  name: (identifier) @name
  body: (enum_member_declaration_list) @body) @definition.enum

(enum_member_declaration
  name: (identifier) @name) @definition.enum_member

(delegate_declaration
  name: (identifier) @name) @definition.type_parameter

(method_declaration
  name: (identifier) @name
  body: (_)? @body) @definition.method

(local_function_statement
  name: (identifier) @name
  body: (_)? @body) @definition.function

(constructor_declaration
  name: (identifier) @name
  body: (_)? @body) @definition.constructor

(operator_declaration
  "operator" @name
  body: (_)? @body) @definition.operator

(property_declaration
  name: (identifier) @name) @definition.property

(indexer_declaration
  "this" @name) @definition.property

(event_field_declaration
  (variable_declaration
    (variable_declarator
      name: (identifier) @name))) @definition.event

(event_declaration
  name: (identifier) @name) @definition.event

; A lambda or anonymous method bound to a name is a function of that name:
; a field holding one is a method, a local variable holding one a function.
(field_declaration
  (variable_declaration
    (variable_declarator
      name: (identifier) @name
      [
        (lambda_expression body: (_) @body)
        (anonymous_method_expression (block) @body)
      ]))) @definition.function

(local_declaration_statement
  (variable_declaration
    (variable_declarator
      name: (identifier) @name
      [
        (lambda_expression body: (_) @body)
        (anonymous_method_expression (block) @body)
      ]))) @definition.function

(field_declaration
  (modifier "const")
  (variable_declaration
    (variable_declarator
      name: (identifier) @name))) @definition.constant

(field_declaration
  (variable_declaration
    (variable_declarator
      name: (identifier) @name))) @definition.field
