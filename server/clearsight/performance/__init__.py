"""Performance impacts found statically: calls that block an event loop, database queries run
once per item of a loop (N+1), and work in loops that grows with the square of the data.

The catalogue of blocking calls is data (`clearsight/data/performance/*.toml`, read by
`catalogue`); names resolve through the module's imports and the bindings around them
(`names`); each rule is a small visitor over one top-level statement (`blocking`, `queries`, `loops`, `repeated`), Django models read from the project's
files (`models`),
so the editor re-checks only the statements an edit changed. Nothing here imports or runs the
code it reads.
"""
