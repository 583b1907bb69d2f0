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

; A lambda or proc bound to a name (`sq = ->(x) { x * x }`, `lambda { |x| }`,
; `proc do |e| end`, `Proc.new { }`) is a function of that name, a method in a
; class body; it goes before constants so `ROUND = ->(x) { }` is a function.
(assignment
  left: [(identifier) (constant)] @name
  right: (lambda body: (_) @body)) @definition.function

(assignment
  left: [(identifier) (constant)] @name
  right: (call
    !receiver
    method: (identifier) @_maker
    block: (_ body: (_)? @body))
  (#match? @_maker "^(lambda|proc)$")) @definition.function

(assignment
  left: [(identifier) (constant)] @name
  right: (call
    receiver: (constant) @_proc
    method: (identifier) @_new
    block: (_ body: (_)? @body))
  (#eq? @_proc "Proc")
  (#eq? @_new "new")) @definition.function

(assignment
  left: (constant) @name) @definition.constant

(call
  method: (identifier) @_attribute_macro
  arguments: (argument_list
    (simple_symbol) @name)
  (#match? @_attribute_macro "^attr_(reader|writer|accessor)$")) @definition.property
