; Go symbols. Capture conventions: see quiver/parse/extract.py.
; The package name is the module part of every container; a method's
; receiver type is appended to it (`func (p *Point) Area()` → `shapes.Point`).

(package_clause
  (package_identifier) @module)

(function_declaration
  name: (identifier) @name
  body: (block)? @body) @definition.function

(method_declaration
  receiver: (parameter_list
    (parameter_declaration
      type: (_) @qualifier))
  name: (field_identifier) @name
  body: (block)? @body) @definition.method

(type_spec
  name: (type_identifier) @name
  type: (struct_type
    (field_declaration_list) @body)) @definition.struct

(type_spec
  name: (type_identifier) @name
  type: (interface_type)) @definition.interface

; Any other named type (`type Celsius float64`) and aliases (`type ID = string`).
(type_spec
  name: (type_identifier) @name) @definition.type_parameter

(type_alias
  name: (type_identifier) @name) @definition.type_parameter

(field_declaration_list
  (field_declaration
    name: (field_identifier) @name) @definition.field)

(interface_type
  (method_elem
    name: (field_identifier) @name) @definition.method)

; A function literal bound to a name is a function of that name, at package
; level or in a function body (`var h = func(...) {...}`, `h := func(...) {...}`).
(var_spec
  name: (identifier) @name
  value: (expression_list . (func_literal body: (block) @body) .)) @definition.function

(short_var_declaration
  left: (expression_list . (identifier) @name .)
  right: (expression_list . (func_literal body: (block) @body) .)) @definition.function

(source_file
  (const_declaration
    (const_spec
      name: (identifier) @name) @definition.constant))

(source_file
  (var_declaration
    (var_spec
      name: (identifier) @name) @definition.variable))

; `var ( ... )` groups its specs in a list (`const ( ... )` does not).
(source_file
  (var_declaration
    (var_spec_list
      (var_spec
        name: (identifier) @name) @definition.variable)))
