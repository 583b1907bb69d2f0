; PHP symbols. Capture conventions: see quiver/parse/extract.py.
; `namespace App\Models;` is the module part of every container after it
; (dotted: `App.Models.User`); a braced `namespace X { }` is a symbol.

(namespace_definition
  name: (namespace_name) @module
  !body)

(namespace_definition
  name: (namespace_name) @name
  body: (compound_statement) @body) @definition.namespace

(class_declaration
  name: (name) @name
  body: (declaration_list) @body) @definition.class

(interface_declaration
  name: (name) @name
  body: (declaration_list) @body) @definition.interface

(trait_declaration
  name: (name) @name
  body: (declaration_list) @body) @definition.class

(enum_declaration
  name: (name) @name
  body: (enum_declaration_list) @body) @definition.enum

(enum_case
  name: (name) @name) @definition.enum_member

(function_definition
  name: (name) @name
  body: (compound_statement) @body) @definition.function

(method_declaration
  name: (name) @name
  body: (compound_statement)? @body) @definition.method

(property_declaration
  (property_element
    name: (variable_name (name) @name))) @definition.property

(const_declaration
  (const_element
    (name) @name)) @definition.constant

; `$handler = function () {}` / `fn () =>`, at file level or in a function body.
(expression_statement
  (assignment_expression
    left: (variable_name (name) @name)
    right: [
      (anonymous_function body: (_) @body)
      (arrow_function body: (_) @body)
    ]) @definition.function)
