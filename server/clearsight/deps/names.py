"""Names: PEP 503 normalisation and the import-name <-> distribution-name knowledge.

Installed metadata (`top_level.txt`, `RECORD`) is the first source for which distribution
provides an import; the curated table here is the second, for what is not installed.
"""

from __future__ import annotations

import re
import sys

_SEPARATORS = re.compile(r"[-_.]+")
# A PEP 508 distribution name (case-insensitive): letters, digits and . _ - inside.
VALID_NAME = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?$")


def normalize(name: str) -> str:
    """PEP 503: lower case, every run of `-`, `_` and `.` folded to one `-`."""
    return _SEPARATORS.sub("-", name).lower()


# Import name (top-level, or dotted for namespace packages) -> the distribution that usually
# provides it, where the two differ. Every distribution here exists on PyPI (a test checks
# it against the bundled snapshot).
IMPORT_TO_DISTRIBUTION: dict[str, str] = {
    "yaml": "PyYAML",
    "cv2": "opencv-python",
    "sklearn": "scikit-learn",
    "skimage": "scikit-image",
    "PIL": "Pillow",
    "bs4": "beautifulsoup4",
    "dateutil": "python-dateutil",
    "jwt": "PyJWT",
    "Crypto": "pycryptodome",
    "Cryptodome": "pycryptodomex",
    "OpenSSL": "pyOpenSSL",
    "attr": "attrs",
    "google.protobuf": "protobuf",
    "google.auth": "google-auth",
    "google.oauth2": "google-auth",
    "google.cloud.storage": "google-cloud-storage",
    "google.cloud.bigquery": "google-cloud-bigquery",
    "google.generativeai": "google-generativeai",
    "googleapiclient": "google-api-python-client",
    "serial": "pyserial",
    "usb": "pyusb",
    "dotenv": "python-dotenv",
    "magic": "python-magic",
    "Levenshtein": "python-Levenshtein",
    "docx": "python-docx",
    "pptx": "python-pptx",
    "git": "GitPython",
    "github": "PyGithub",
    "gitlab": "python-gitlab",
    "telegram": "python-telegram-bot",
    "fitz": "PyMuPDF",
    "MySQLdb": "mysqlclient",
    "mysql.connector": "mysql-connector-python",
    "zmq": "pyzmq",
    "pythoncom": "pywin32",
    "pywintypes": "pywin32",
    "winerror": "pywin32",
    "servicemanager": "pywin32",
    "wx": "wxPython",
    "gi": "PyGObject",
    "cairo": "pycairo",
    "kafka": "kafka-python",
    "ldap": "python-ldap",
    "nacl": "PyNaCl",
    "jose": "python-jose",
    "multipart": "python-multipart",
    "socks": "PySocks",
    "dns": "dnspython",
    "Bio": "biopython",
    "grpc": "grpcio",
    "absl": "absl-py",
    "faiss": "faiss-cpu",
    "pkg_resources": "setuptools",
    "_distutils_hack": "setuptools",
    "markdown_it": "markdown-it-py",
    "rpds": "rpds-py",
    "mpl_toolkits": "matplotlib",
    "pylab": "matplotlib",
    "websocket": "websocket-client",
    "paho": "paho-mqtt",
    "llama_cpp": "llama-cpp-python",
    "snowflake.connector": "snowflake-connector-python",
    "azure.storage.blob": "azure-storage-blob",
    "azure.identity": "azure-identity",
    "pyximport": "Cython",
    "brotli": "Brotli",
    "snappy": "python-snappy",
    "pywt": "PyWavelets",
    "osgeo": "GDAL",
    "vlc": "python-vlc",
    "speech_recognition": "SpeechRecognition",
    "gtts": "gTTS",
    "whisper": "openai-whisper",
    "ffmpeg": "ffmpeg-python",
    "argon2": "argon2-cffi",
    "rest_framework": "djangorestframework",
    "corsheaders": "django-cors-headers",
    "debug_toolbar": "django-debug-toolbar",
    "django_filters": "django-filter",
    "environ": "django-environ",
    "bson": "pymongo",
    "gridfs": "pymongo",
    "faker": "Faker",
    "factory": "factory-boy",
    "_pytest": "pytest",
    "xdist": "pytest-xdist",
    "antlr4": "antlr4-python3-runtime",
    "decouple": "python-decouple",
    "RPi": "RPi.GPIO",
    "Xlib": "python-xlib",
    "OpenGL": "PyOpenGL",
    "cupyx": "cupy",
    "linkify_it": "linkify-it-py",
    "ntlm": "python-ntlm",
    "scikits.umfpack": "scikit-umfpack",
    "sksparse": "scikit-sparse",
    "flint": "python-flint",
    "pysat": "python-sat",
    "sage": "sagemath-standard",
}
# pywin32 installs one top-level module per Windows API area: win32api, win32clipboard…
_PYWIN32_MODULES = (
    "win32api win32con win32com win32gui win32file win32process win32evtlog win32evtlogutil "
    "win32clipboard win32pipe win32event win32service win32serviceutil win32security win32pdh "
    "win32job win32ts win32print win32crypt win32net win32profile win32console win32ui "
    "win32cred win32timezone"
)
for _module in _PYWIN32_MODULES.split():
    IMPORT_TO_DISTRIBUTION[_module] = "pywin32"

# The reverse, for suggestions: a popular distribution -> the name you import it by.
DISTRIBUTION_TO_IMPORT: dict[str, str] = {}
for _module, _distribution in IMPORT_TO_DISTRIBUTION.items():
    DISTRIBUTION_TO_IMPORT.setdefault(normalize(_distribution), _module.split(".")[0])

# Modules of other Python implementations: Jython exposes Java packages (`java`, `com.sun`),
# IronPython `clr` and .NET's `System`, PyPy has `tputil`, OpenVMS builds `vms_lib`. The
# standard library imports them behind platform checks.
# Matched on the dotted prefix, so `org.python.core` counts and a bare `org` does not.
OTHER_IMPLEMENTATION_MODULES = ("java", "javax", "org.python", "com.sun", "clr", "System")
OTHER_IMPLEMENTATION_MODULES += ("tputil", "vms_lib")

# Python 2 standard-library modules renamed or removed in Python 3, and what replaced them.
PYTHON2_MODULES: dict[str, str] = {
    "urllib2": "urllib.request",
    "urlparse": "urllib.parse",
    "httplib": "http.client",
    "ConfigParser": "configparser",
    "Queue": "queue",
    "StringIO": "io.StringIO",
    "cStringIO": "io.StringIO",
    "cPickle": "pickle",
    "__builtin__": "builtins",
    "_winreg": "winreg",
    "Tkinter": "tkinter",
    "tkMessageBox": "tkinter.messagebox",
    "HTMLParser": "html.parser",
    "htmlentitydefs": "html.entities",
    "cookielib": "http.cookiejar",
    "Cookie": "http.cookies",
    "SocketServer": "socketserver",
    "SimpleHTTPServer": "http.server",
    "BaseHTTPServer": "http.server",
    "xmlrpclib": "xmlrpc.client",
    "copy_reg": "copyreg",
    "anydbm": "dbm",
    "commands": "subprocess",
    "popen2": "subprocess",
    "md5": "hashlib",
    "sha": "hashlib",
    "_abcoll": "collections.abc",
}

# Standard-library modules of Python 3 versions other than the one running: added since
# 3.12 (code guarded by a version check imports them) or removed before 3.11 (code
# guarded the other way still does). `_typeshed` exists for type checkers only.
OTHER_VERSION_STDLIB = frozenset(
    {
        # added in 3.12-3.14
        "annotationlib", "compression", "_colorize", "_pyrepl", "_interpreters",
        "_interpqueues", "_interpchannels", "_suggestions", "_sysconfig",
        "_opcode_metadata", "_android_support", "_apple_support", "_ios_support",
        "_pylong", "_pydatetime", "_wmi", "_zstd", "_remote_debugging", "_tokenize",
        # removed in 3.0-3.11
        "dummy_threading", "_dummy_thread", "dummy_thread", "binhex", "formatter",
        "parser", "symbol", "macpath", "_bootlocale",
        # type checkers only
        "_typeshed",
    }
)  # fmt: skip

# Modules the interpreter itself may provide without a file in the standard library:
# the running script and the site hooks a deployment may add.
INTERPRETER_MODULES = frozenset({"__main__", "__future__", "sitecustomize", "usercustomize"})

STDLIB_NAMES: frozenset[str] = (
    frozenset(sys.stdlib_module_names) | frozenset(sys.builtin_module_names) | OTHER_VERSION_STDLIB
)


def is_interpreter_private(name: str) -> bool:
    """Dunder-prefixed modules (frozen `__hello__`, `__phello__`) and CPython's `_test*`
    extension modules, which `sys.stdlib_module_names` leaves out on purpose."""
    return name.startswith("__") or name.startswith("_test")


def is_other_implementation(module: str) -> bool:
    return any(
        module == prefix or module.startswith(prefix + ".")
        for prefix in OTHER_IMPLEMENTATION_MODULES
    )


def curated_distribution(module: str) -> str | None:
    """The curated distribution for a dotted module, longest matching prefix first."""
    parts = module.split(".")
    for end in range(len(parts), 0, -1):
        found = IMPORT_TO_DISTRIBUTION.get(".".join(parts[:end]))
        if found is not None:
            return found
    return None
