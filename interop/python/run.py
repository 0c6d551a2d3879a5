"""The interop suite's Python driver. One process per library:

    /usr/bin/python3 run.py pyjwt|python-jose|jwcrypto|authlib < jobs.json > results.json

Run it with Debian's /usr/bin/python3, where apt installs python3-jwt,
python3-jose, python3-jwcrypto and python3-authlib (a pyenv python3 on PATH
does not see them). The job protocol is the one ../node/run.mjs documents:
a JSON array of sign/verify jobs in, a JSON array of results out, in order;
{"id": ..., "op": "version"} answers the library's version.
"""
import importlib
import importlib.metadata
import json
import sys

from common import Unsupported

# name on the command line: (module here, distribution whose version is reported)
LIBS = {
    "pyjwt": ("lib_pyjwt", "PyJWT"),
    "python-jose": ("lib_python_jose", "python-jose"),
    "jwcrypto": ("lib_jwcrypto", "jwcrypto"),
    "authlib": ("lib_authlib", "Authlib"),
}


def main():
    if len(sys.argv) != 2 or sys.argv[1] not in LIBS:
        sys.stderr.write("usage: run.py %s < jobs.json\n" % "|".join(LIBS))
        return 2
    module, dist = LIBS[sys.argv[1]]
    lib = importlib.import_module(module)
    jobs = json.load(sys.stdin)
    results = []
    for job in jobs:
        if job["op"] == "version":
            results.append(dict(id=job["id"], ok=True, version=importlib.metadata.version(dist)))
            continue
        try:
            fn = getattr(lib, job["op"], None)
            if fn is None:
                raise Unsupported("op " + job["op"])
            out = fn(job)
            results.append(dict(id=job["id"], ok=True, **out))
        except Unsupported as e:
            results.append(dict(id=job["id"], ok=False, unsupported=True, error="Unsupported: %s" % e))
        except Exception as e:  # the library's refusal, whatever its class
            results.append(dict(id=job["id"], ok=False, error="%s: %s" % (type(e).__name__, e)))
    json.dump(results, sys.stdout, default=str)
    return 0


if __name__ == "__main__":
    sys.exit(main())
