; Ruby symbols. Capture conventions: see quiver/parse/extract.py.
; No module part: modules and classes are symbols. `class A::B` puts B in A;
; `def self.x` and methods inside `class << self` are methods of the class.

(module
  name: (_) @name
  body: (_)? @body) @definition.module

(class
  name: (_) @name
  body: (_)? @body) @definition.class

(method
  name: (_) @name
  body: (_)? @body) @definition.function

(singleton_method
  name: (_) @name
  body: (_)? @body) @definition.method

(assignment
  left: (constant) @name) @definition.constant

(call
  method: (identifier) @_attribute_macro
  arguments: (argument_list
    (simple_symbol) @name)
  (#match? @_attribute_macro "^attr_(reader|writer|accessor)$")) @definition.property
