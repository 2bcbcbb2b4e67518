"""Performance impacts found statically: calls that block an event loop, database queries run
once per item of a loop (N+1), and work in loops that grows with the square of the data.

The catalogues are data (`clearsight/data/performance/*.toml`, read by `catalogue`); names
resolve through the module's imports and the bindings around them (`names`); Django models
are read from the project's own files (`models`); each rule is a small visitor over one
function's nodes (`blocking`, `queries`, `loops`, `repeated`), so the editor re-checks only
the functions an edit changed (`document`). Nothing here imports or runs the code it reads.
"""
