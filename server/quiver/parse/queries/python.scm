; Python symbols. Capture conventions: see quiver/parse/extract.py.
; Decorators are folded into the range by the language spec (decorated_definition
; is a wrapper); a `def` directly in a class body becomes a method there.

(class_definition
  name: (identifier) @name
  body: (block) @body) @definition.class

(function_definition
  name: (identifier) @name
  body: (block) @body) @definition.function

; A lambda bound to a name is a function of that name (a method in a class
; body), wherever it is assigned; it goes before the constants so that
; `BY_KEY = lambda item: ...` is a function too.
(expression_statement
  (assignment
    left: (identifier) @name
    right: (lambda body: (_) @body))) @definition.function

; Module-level constants by convention: UPPER_CASE names.
(module
  (expression_statement
    (assignment
      left: (identifier) @name)) @definition.constant
  (#match? @name "^_*[A-Z][A-Z0-9_]*$"))

; Annotated class attributes (dataclass / pydantic / NamedTuple fields).
(class_definition
  body: (block
    (expression_statement
      (assignment
        left: (identifier) @name
        type: (type))) @definition.field))

(type_alias_statement
  left: (type [
    (identifier) @name
    (generic_type (identifier) @name)
  ])) @definition.type_parameter
