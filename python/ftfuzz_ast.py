"""ftfuzz AST bridge: parse Python sources with the target interpreter's own `ast` module and dump
them as JSON trees in the shape of src/generators/ast.ts (node type in "_type", fields as in
`node._fields`, no position attributes; ints, floats, bytes and Ellipsis tagged).

Usage: python ftfuzz_ast.py < REQUEST.json > RESPONSE.json
REQUEST is a JSON list of source strings; RESPONSE is a list with, per source, {"tree": ...} or
{"error": "SyntaxError: ... (line N)"}. Standard library only.
"""

import ast
import json
import sys


def convert(value, constant=False):
    """Only Constant.value is tagged; other int fields (is_async, level) stay plain JSON numbers."""
    if isinstance(value, ast.AST):
        out = {"_type": type(value).__name__}
        for field in value._fields:
            out[field] = convert(getattr(value, field, None), isinstance(value, ast.Constant) and field == "value")
        return out
    if isinstance(value, list):
        return [convert(v) for v in value]
    if value is None or isinstance(value, (bool, str)):
        return value
    if not constant and isinstance(value, int):
        return value
    if isinstance(value, int):
        return {"$int": str(value)}
    if isinstance(value, float):
        return {"$float": repr(value)}
    if isinstance(value, bytes):
        return {"$bytes": value.hex()}
    if value is Ellipsis:
        return {"$ellipsis": True}
    return {"$unsupported": type(value).__name__}


def main():
    sources = json.load(sys.stdin)
    results = []
    for source in sources:
        try:
            results.append({"tree": convert(ast.parse(source))})
        except SyntaxError as exc:
            results.append({"error": "%s: %s (line %s)" % (type(exc).__name__, exc.msg, exc.lineno)})
    json.dump(results, sys.stdout)


if __name__ == "__main__":
    main()
