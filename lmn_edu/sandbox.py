"""The student's code runs in a child process; the checker calls it through a proxy.

The check runs in the checker's own process and calls the student's function through a
:class:`StudentFunction`, which forwards each call to a child process (``python -c`` with this
module) and waits for the answer. So nothing the student's code does can end the checker or write
its verdict: an exit, a signal, a hang, an output flood or a crash of the child ends only the
exercise, as an :class:`Incident` with one line saying what happened.

- Arguments travel pickled: a callable passed to the student must be picklable *by reference* (a
  module-level function of lessons/checks.py or of lmn_edu, or a ``functools.partial`` of one).
  Answers come back through :class:`AnswerUnpickler`, which admits only builtin data (numbers,
  strings, lists, tuples, dicts, sets) and NumPy arrays, scalars and dtypes: a student cannot send
  back an object that runs code in the checker.
- ``forbid``: the package functions an exercise may not call are replaced in the child, before the
  student's file is loaded, by sentinels that refuse the call while that exercise runs (wherever the
  package holds a reference to them) and tell the checker. The checks keep the real ones: they run in
  the checker's process, which never loads the student's code.
- While the student's code runs, the child refuses to write or delete files, start processes,
  signal other processes, or read the reference solutions (an audit hook). This stops the shortcuts
  a student might try, not a determined attacker (ctypes can get around any of it); grade
  untrusted code on a machine you can afford to lose, as with any autograder.
"""
import builtins
import contextlib
import os
import pickle
import queue
import signal
import struct
import sys
import threading
import time
from pathlib import Path

STARTUP_S = 60          # seconds for the child to start (Python, NumPy, lmn_edu, the checks)
OUTPUT_KEPT = 4000      # characters of the student's printed output kept per exercise
FLOOD_BYTES = 1 << 20   # printing more than this in one exercise is an output flood
SETTLE_S = 2.0          # the longest take_output waits for the output of the last reply
ANSWER_BYTES = 1 << 28  # the largest answer accepted (256 MiB pickled)


class Incident(BaseException):
    """The exercise ended without an answer (the child exited, hung, flooded, called a forbidden
    function…). A BaseException, so that a check's ``except Exception`` cannot swallow it."""

    def __init__(self, reason):
        super().__init__(reason)
        self.reason = reason


class StudentError(Exception):
    """The student's function raised an exception of a type that is not a builtin one."""


class CheckerError(Exception):
    """The checker itself could not run (no child process, an argument that does not pickle)."""


# --- the wire: length-prefixed pickles -------------------------------------------------------

def _send(stream, obj):
    data = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    stream.write(struct.pack("<Q", len(data)) + data)
    stream.flush()


def _recv_frame(stream, limit=None):
    """The next frame's bytes; None at end of stream; b"" for a frame over ``limit``."""
    head = stream.read(8)
    if len(head) < 8:
        return None
    (size,) = struct.unpack("<Q", head)
    if limit is not None and size > limit:
        return b""
    data = stream.read(size)
    return data if len(data) == size else None


_SAFE_BUILTINS = {"list", "dict", "tuple", "set", "frozenset", "int", "float", "complex", "str",
                  "bytes", "bytearray", "bool", "slice", "range"}
_SAFE_NUMPY = {("numpy", "dtype"), ("numpy", "ndarray"),
               ("numpy._core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "scalar"),
               ("numpy._core.numeric", "_frombuffer"), ("numpy.core.multiarray", "_reconstruct"),
               ("numpy.core.multiarray", "scalar"), ("numpy.core.numeric", "_frombuffer")}


class AnswerUnpickler(pickle.Unpickler):
    """Unpickles builtin data and NumPy arrays/scalars/dtypes only; anything else is refused."""

    def find_class(self, module, name):
        if (module == "builtins" and name in _SAFE_BUILTINS) or (module, name) in _SAFE_NUMPY:
            return super().find_class(module, name)
        if module.startswith("numpy") and name.endswith("DType") and "dtypes" in module:
            return super().find_class(module, name)      # a dtype's class, e.g. numpy.dtypes.Float64DType
        raise pickle.UnpicklingError(f"{module}.{name}")


def _load_answer(data):
    import io
    return AnswerUnpickler(io.BytesIO(data)).load()


# --- the checker's side ----------------------------------------------------------------------

_SCRATCH = []


def _scratch():
    """A folder where the student's code may write (caches, temporary files): one per checker
    process, removed when it exits."""
    if not _SCRATCH:
        import atexit
        import shutil
        import tempfile
        _SCRATCH.append(tempfile.mkdtemp(prefix="lmn_edu_check_"))
        atexit.register(shutil.rmtree, _SCRATCH[0], ignore_errors=True)
    return _SCRATCH[0]


def _signal_name(number):
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


class Child:
    """One child process that loads one student file and answers calls of its functions.

    ``path``: the student's file; ``checks``: (path, module name) of lessons/checks.py, loaded in
    the child too so that its functions unpickle; ``forbid``: every dotted name any exercise of the
    file forbids; ``protect``: a folder the student's code may not read (the solutions)."""

    def __init__(self, path, checks, forbid, protect=None):
        import subprocess
        self.path = Path(path)
        self.dead = None                      # the reason, once the child is gone
        self._flood = False
        self._out = bytearray()
        self._out_total = 0
        self._lock = threading.Lock()
        # The child ends the output of each reply with this mark (on the output stream, before the
        # reply): take_output waits for it, so a print is never lost to the drain thread's lag.
        self._mark = b"\x1e" + os.urandom(8).hex().encode() + b"\x1e"
        self._tail = b""                       # output bytes that may begin a mark split across reads
        self._marks = self._replies_seen = 0
        self._settled = threading.Condition(self._lock)
        self._replies = queue.Queue()
        env = dict(os.environ)
        package_parent = str(Path(__file__).resolve().parents[1])
        env["PYTHONPATH"] = os.pathsep.join([package_parent] + [p for p in [env.get("PYTHONPATH")] if p])
        for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
            env.setdefault(var, "1")          # the student's time is measured: no thread contention
        env["PYTHONIOENCODING"] = "utf-8"
        env["MPLCONFIGDIR"] = env["TMPDIR"] = env["TEMP"] = env["TMP"] = _scratch()
        try:
            self._proc = subprocess.Popen(
                [sys.executable, "-X", "utf8", "-c", "from lmn_edu.sandbox import _child_main; _child_main()"],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
                start_new_session=(os.name == "posix"))
        except OSError as e:
            raise CheckerError(f"the checking process did not start: {e}") from None
        threading.Thread(target=self._read_replies, daemon=True).start()
        threading.Thread(target=self._drain_output, daemon=True).start()
        try:
            _send(self._proc.stdin, ("setup", str(checks[0]), checks[1], tuple(forbid),
                                     str(protect) if protect else None, _scratch(), self._mark))
            kind, *rest = self._wait(STARTUP_S, "while it started")
        except (Incident, OSError) as e:
            kind, rest = "error", [getattr(e, "reason", e)]
        if kind != "ready":
            self.close()
            raise CheckerError(f"the checking process did not start: {rest[0] if rest else kind}")

    # threads: replies into a queue, output into a capped buffer (a flood stops the child)
    def _read_replies(self):
        stream = self._proc.stdout
        try:
            while True:
                frame = _recv_frame(stream, ANSWER_BYTES)
                self._replies.put(frame)
                if frame is None:
                    return
        except (OSError, ValueError):
            self._replies.put(None)

    def _drain_output(self):
        stream = self._proc.stderr
        while True:
            try:
                chunk = stream.read1(65536)
            except (OSError, ValueError):
                return
            data, marks = self._unmark(chunk)
            with self._lock:
                self._out_total += len(data)
                if len(self._out) < OUTPUT_KEPT * 4:
                    self._out += data[:OUTPUT_KEPT * 4 - len(self._out)]
                flood = self._out_total > FLOOD_BYTES and not self._flood
                if flood:
                    self._flood = True
                self._marks += marks
                if marks or not chunk:
                    self._settled.notify_all()
            if flood:
                self._kill()
            if not chunk:
                return

    def _unmark(self, chunk):
        """(the student's bytes of ``chunk``, the number of marks in it); b"" at the end of the stream
        gives back what was held. A mark split across two reads is held until it is whole."""
        if not chunk:
            data, self._tail = self._tail, b""
            return data, 0
        data = self._tail + chunk
        marks = data.count(self._mark)
        data = data.replace(self._mark, b"")
        keep = next((k for k in range(len(self._mark) - 1, 0, -1) if data.endswith(self._mark[:k])), 0)
        self._tail = data[len(data) - keep:] if keep else b""
        return data[:len(data) - keep], marks

    @property
    def flooded(self):
        return self._flood

    def flood_reason(self, during="during the call"):
        return f"printed more than {FLOOD_BYTES >> 20} MiB {during} (an output flood), so it was stopped"

    def take_output(self):
        """What the student's code printed since the last call of this (capped), and reset: all of
        it up to the last reply (the child marks where each reply's output ends)."""
        with self._lock:
            self._settled.wait_for(lambda: self._marks >= self._replies_seen or self.dead, timeout=SETTLE_S)
            text = self._out.decode("utf-8", "replace")
            self._out, self._out_total = bytearray(), 0
        return text if len(text) <= OUTPUT_KEPT else text[:OUTPUT_KEPT] + "…"

    def _kill(self):
        try:
            if os.name == "posix":
                os.killpg(self._proc.pid, signal.SIGKILL)
            else:
                self._proc.kill()
        except (ProcessLookupError, PermissionError, OSError):
            pass

    def _died(self, during):
        """The reason the child is gone, once its reply stream ended."""
        try:
            code = self._proc.wait(timeout=2)
        except Exception:
            self._kill()
            code = self._proc.wait()
            return f"closed its connection to the checker {during}"
        if self._flood:
            return self.flood_reason(during)
        if code < 0:
            return f"its process was killed by {_signal_name(-code)} {during}"
        return f"its process ended with exit status {code} {during} (os._exit or a crash?)"

    def _wait(self, budget, during):
        """The next reply, within ``budget`` seconds; an Incident if there is none."""
        if self.dead:
            raise Incident(self.dead)
        try:
            frame = self._replies.get(timeout=max(budget, 0.0))
        except queue.Empty:
            self._kill()
            self.dead = f"no answer within {budget:.3g} s {during} (an endless loop?); --timeout sets the limit"
            raise Incident(self.dead) from None
        if frame is None:
            self.dead = self._died(during)
            raise Incident(self.dead)
        if frame == b"":
            self._kill()
            self.dead = f"its answer was larger than {ANSWER_BYTES >> 20} MiB"
            raise Incident(self.dead)
        try:
            reply = _load_answer(frame)
        except Exception as e:
            self._kill()
            self.dead = f"sent back something the checker does not accept ({e})"
            raise Incident(self.dead) from None
        if not (isinstance(reply, tuple) and reply and isinstance(reply[0], str)):
            self._kill()
            self.dead = "sent back a reply the checker does not know"
            raise Incident(self.dead)
        with self._lock:
            self._replies_seen += 1
        return reply

    def load(self, budget):
        """Load the student's file (within ``budget`` seconds: it may import a slow module); the
        names of its functions. An Incident when it cannot."""
        _send(self._proc.stdin, ("load", str(self.path)))
        kind, *rest = self._wait(budget, "while the file was loaded")
        if kind == "loaded" and len(rest) == 1 and isinstance(rest[0], list):
            return {name for name in rest[0] if isinstance(name, str)}
        if kind == "exit" and len(rest) == 1:
            raise Incident(f"the file calls sys.exit({rest[0]!r}) (or raises SystemExit) when it is loaded")
        if kind == "error" and len(rest) == 1:
            raise Incident(str(rest[0]))
        raise Incident("sent back a reply the checker does not know")

    def call(self, name, forbid, args, kwargs, clock, strict_floats=False):
        """The student's ``name(*args, **kwargs)``, within the time left on ``clock``; with
        ``strict_floats``, NumPy's floating-point errors and RuntimeWarnings raise (see grading)."""
        try:
            _send(self._proc.stdin, ("call", name, tuple(forbid), args, kwargs, bool(strict_floats)))
        except OSError:
            pass                               # the child is gone: _wait says why
        except Exception as e:
            raise CheckerError(f"an argument for {name} does not pickle by reference ({e}); pass "
                               "module-level functions of checks.py or lmn_edu, or partials of them") from None
        start = time.perf_counter()
        try:
            kind, *rest = self._wait(clock.left(), "during the call")
        finally:
            clock.spend(time.perf_counter() - start)
        if kind == "ok" and len(rest) == 2:
            _write_back(args, kwargs, rest[-1])
            return rest[0]
        if kind == "raised" and len(rest) == 4 and all(isinstance(x, str) for x in rest[:3]):
            _write_back(args, kwargs, rest[-1])
            raise _rebuild(*rest[:-1])
        rest = rest or [None]
        if kind == "exit":
            raise Incident(f"called sys.exit({rest[0]!r}) (or raised SystemExit)")
        if kind == "interrupt":
            raise Incident("raised KeyboardInterrupt")
        if kind == "forbidden":
            raise Incident(f"calls {rest[0]}, the package's own implementation of this exercise")
        if kind == "unsendable":
            raise Incident(f"returned {rest[0]}, which is not data (numbers, strings, lists, tuples, "
                           "dicts or NumPy arrays)")
        raise Incident(f"sent back a reply the checker does not know ({kind!r})")

    def close(self):
        if self._proc.poll() is None:
            try:
                _send(self._proc.stdin, ("quit",))
                self._proc.wait(timeout=1)
            except Exception:
                pass
        self._kill()
        for stream in (self._proc.stdin, self._proc.stdout, self._proc.stderr):
            try:
                stream.close()
            except Exception:
                pass
        try:
            self._proc.wait(timeout=5)
        except Exception:
            pass


def _write_back(args, kwargs, changed):
    """Copy what the student's function changed in place into the check's own arguments (arrays of
    the same shape, lists, dicts), so that a check can see an argument was modified."""
    import numpy as np
    if not isinstance(changed, dict):
        return
    for key, new in changed.items():
        if isinstance(key, int) and 0 <= key < len(args):
            old = args[key]
        elif isinstance(key, str) and key in kwargs:
            old = kwargs[key]
        else:
            continue
        if isinstance(old, np.ndarray) and isinstance(new, np.ndarray) and old.shape == new.shape:
            if old.flags.writeable:
                np.copyto(old, new, casting="unsafe")
        elif isinstance(old, list) and isinstance(new, list):
            old[:] = new
        elif isinstance(old, dict) and isinstance(new, dict):
            old.clear()
            old.update(new)


def _rebuild(typename, message, where):
    """The student's exception, as a builtin exception type when it is one (so that a check can
    expect, say, a ValueError), else as StudentError; ``where`` names the line."""
    cls = getattr(builtins, typename, None)
    text = f"{message}{where}"
    if isinstance(cls, type) and issubclass(cls, Exception):
        try:
            error = cls(text)
        except Exception:
            error = StudentError(f"{typename}: {text}")
    else:
        error = StudentError(f"{typename}: {text}")
    error.student = (typename, message, where)
    return error


class Clock:
    """The seconds an exercise's calls may take in all (the check's own work does not count)."""

    def __init__(self, seconds):
        self.seconds = self._left = float(seconds)

    def left(self):
        return self._left

    def spend(self, seconds):
        self._left -= seconds


class StudentFunction:
    """The student's function ``name``, called in the child. ``calls``: how many calls were made;
    ``incident``: the first Incident of this exercise (kept even if a check catches it)."""

    def __init__(self, child, name, forbid, clock, strict_floats=False):
        self.child, self.name, self.forbid, self.clock = child, name, tuple(forbid), clock
        self.strict_floats = bool(strict_floats)
        self.calls = 0
        self.incident = None
        self.raised = None               # the last exception the student's code raised

    def __call__(self, *args, **kwargs):
        if self.incident:
            raise Incident(self.incident)
        self.calls += 1
        try:
            return self.child.call(self.name, self.forbid, args, kwargs, self.clock, self.strict_floats)
        except Incident as e:
            self.incident = e.reason
            raise
        except Exception as e:
            if hasattr(e, "student"):
                self.raised = e
            raise

    def __repr__(self):
        return f"<the student's {self.name}>"


# --- the child's side ------------------------------------------------------------------------

_STATE = {"forbid": frozenset(), "hit": None, "trusted": 0, "strict": None}


def _strict_floats(checks_path):
    """A context in which NumPy's overflow, invalid and divide-by-zero raise FloatingPointError and
    every RuntimeWarning is an error (underflow to 0 stays allowed). Built from numpy and warnings
    as they were before the student's file was loaded, so that the file cannot swap them.

    Inside it, the student's own np.errstate / np.seterr (however imported, as a decorator too) leave
    the errors raised: on NumPy 2 every change of the error handling goes through
    ``numpy._core._ufunc_config._make_extobj``, which is guarded there. NumPy's own functions, the
    package's and the checks' may still change it for themselves (np.nanmean ignores its 0/0)."""
    import warnings

    import numpy as np
    errstate, catch, simplefilter = np.errstate, warnings.catch_warnings, warnings.simplefilter
    try:
        from numpy._core import _ufunc_config as config
        make = config._make_extobj
    except (ImportError, AttributeError):          # NumPy 1: the student's errstate is not overridden
        config = make = None
    trusted = (str(Path(np.__file__).resolve().parent), str(Path(__file__).resolve().parent))
    own = {str(Path(__file__).resolve())}           # the child's loop: the caller of a decorated answer
    checks = str(Path(checks_path).resolve())

    def guarded(*args, **kwargs):
        frame = sys._getframe(1)
        while frame is not None and frame.f_code.co_filename == config.__file__:
            frame = frame.f_back                      # out of errstate / seterr to whoever called them
        where = str(Path(frame.f_code.co_filename).resolve()) if frame is not None else ""
        if where == checks or (where not in own and where.startswith(trusted)):
            return make(*args, **kwargs)
        return make()                                 # the student's: the handling stays as it is

    @contextlib.contextmanager
    def strict():
        with catch():
            simplefilter("error", RuntimeWarning)
            with errstate(over="raise", invalid="raise", divide="raise", under="ignore"):
                if config is not None:
                    config._make_extobj = guarded
                try:
                    yield
                finally:
                    if config is not None:
                        config._make_extobj = make
    return strict


class _Forbidden(BaseException):
    pass


def _resolve(dotted):
    """(owner, attribute, value) of a dotted name such as lmn_edu.lmn.r_squared or
    lmn_edu.adamw.AdamW.step; None when it does not exist."""
    import importlib
    parts = dotted.split(".")
    for i in range(len(parts) - 1, 0, -1):
        try:
            owner = importlib.import_module(".".join(parts[:i]))
        except ImportError:
            continue
        try:
            for part in parts[i:-1]:
                owner = getattr(owner, part)
            return owner, parts[-1], getattr(owner, parts[-1])
        except AttributeError:
            return None
    return None


def _sentinel(dotted, original):
    """``original``, refused while an exercise that forbids ``dotted`` runs (unless called from a
    callable the check passed in)."""
    def sentinel(*args, **kwargs):
        if dotted in _STATE["forbid"] and not _STATE["trusted"]:
            _STATE["hit"] = _STATE["hit"] or dotted
            raise _Forbidden(dotted)
        return original(*args, **kwargs)
    sentinel.__name__ = getattr(original, "__name__", dotted.rsplit(".", 1)[-1])
    sentinel.__doc__ = getattr(original, "__doc__", None)
    return sentinel


def _install_sentinels(names):
    for dotted in names:
        found = _resolve(dotted)
        if found is None:
            continue
        owner, attr, original = found
        sentinel = _sentinel(dotted, original)
        setattr(owner, attr, sentinel)
        # every other reference the package (or the name's own package) holds to the same object
        roots = ("lmn_edu", dotted.split(".")[0])
        for mod_name, mod in list(sys.modules.items()):
            if mod is None or not mod_name.split(".")[0] in roots:
                continue
            for key, value in list(vars(mod).items()):
                if value is original:
                    setattr(mod, key, sentinel)


def _trusted(fn):
    """A callable the check passed in: it may use any package function, forbidden or not."""
    def call(*args, **kwargs):
        _STATE["trusted"] += 1
        try:
            return fn(*args, **kwargs)
        finally:
            _STATE["trusted"] -= 1
    return call


def _guard(protect, scratch):
    """The audit hook that holds while the student's code runs (it cannot be removed). Writing and
    deleting are allowed only in ``scratch`` (a folder of the checker's own, for caches such as
    matplotlib's); reading is refused in ``protect`` (the reference solutions)."""
    protect = Path(protect).resolve() if protect else None
    scratch = Path(scratch).resolve()

    def inside(path, folder):
        if folder is None or not isinstance(path, (str, bytes, os.PathLike)):
            return False
        try:
            return Path(os.fsdecode(path)).resolve().is_relative_to(folder)
        except (OSError, ValueError):
            return False

    def audit(event, args):
        if event == "open":
            path, mode, flags = args
            writes = isinstance(flags, int) and flags & (os.O_WRONLY | os.O_RDWR)
            if writes and path != os.devnull and not inside(path, scratch):
                raise PermissionError("the checker does not let an exercise write files")
            if inside(path, protect):
                raise PermissionError("the checker does not let an exercise read the reference solutions")
        elif event in ("os.kill", "os.killpg"):
            if args[0] not in (0, os.getpid()):
                raise PermissionError("the checker does not let an exercise signal other processes")
        elif event in _REFUSED:
            paths = [a for a in args if isinstance(a, (str, bytes, os.PathLike))]
            if _REFUSED[event] == "change files" and paths and all(inside(a, scratch) for a in paths):
                return
            raise PermissionError(f"the checker does not let an exercise {_REFUSED[event]}")
    return audit


_REFUSED = {**{e: "start processes" for e in ("subprocess.Popen", "os.system", "os.exec", "os.posix_spawn",
                                              "os.spawn", "os.fork", "os.forkpty", "os.startfile", "pty.spawn")},
            **{e: "change files" for e in ("os.remove", "os.rename", "os.replace", "os.rmdir", "os.mkdir",
                                           "os.chmod", "os.chown", "os.truncate", "os.link", "os.symlink",
                                           "os.utime", "shutil.rmtree", "shutil.copyfile", "shutil.move")},
            **{e: "use the network" for e in ("socket.connect", "socket.bind")}}


def _where(tb, path):
    """ ' (line N)' of the deepest frame in the student's file, or ''."""
    import traceback
    lines = [f.lineno for f in traceback.extract_tb(tb) if f.filename == path]
    return f" ({Path(path).name} line {lines[-1]})" if lines else ""


def _one_line(text, n=300):
    text = " ".join(str(text).split())
    return text if len(text) <= n else text[:n] + "…"


def _child_main():
    import importlib.machinery
    import importlib.util
    commands = open(os.dup(0), "rb")
    replies = open(os.dup(1), "wb")
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.dup2(2, 1)                               # the student's prints go to the captured stream
    sys.dont_write_bytecode = True
    threading.Thread(target=_orphan_watch, args=(os.getppid(),), daemon=True).start()
    module = None
    path = None

    mark = b""

    def reply(*message):
        sys.stdout.flush()
        sys.stderr.flush()
        if mark:
            os.write(2, mark)                   # the end of this reply's output (Child.take_output)
        _send(replies, message)

    while True:
        frame = _recv_frame(commands)
        if frame is None:
            return
        kind, *rest = pickle.loads(frame)       # the checker is trusted
        if kind == "quit":
            return
        if kind == "setup":
            checks_path, checks_name, forbid, protect, scratch, mark = rest
            try:
                spec = importlib.util.spec_from_file_location(checks_name, checks_path)
                checks = importlib.util.module_from_spec(spec)
                sys.modules[checks_name] = checks
                spec.loader.exec_module(checks)
                _install_sentinels(forbid)
                _STATE["strict"] = _strict_floats(checks_path)
            except Exception as e:
                reply("error", f"{type(e).__name__}: {e}")
                return
            sys.addaudithook(_guard(protect, scratch))   # from here on, the student's code may run
            reply("ready")
        elif kind == "load":
            path = rest[0]
            sys.path.insert(0, str(Path(path).parent))
            try:
                loader = importlib.machinery.SourceFileLoader("_student_exercises", path)   # any file name
                module = importlib.util.module_from_spec(importlib.util.spec_from_loader(loader.name, loader))
                loader.exec_module(module)
            except SystemExit as e:
                reply("exit", e.code)
                continue
            except KeyboardInterrupt:
                reply("error", "the file raises KeyboardInterrupt when it is loaded")
                continue
            except (SyntaxError, IndentationError) as e:   # the file does not compile
                reply("error", f"the file does not compile: {type(e).__name__} at line {e.lineno}: {e.msg}")
                continue
            except BaseException as e:
                reply("error", f"the file fails when it is loaded: {type(e).__name__}: "
                      f"{_one_line(e)}{_where(e.__traceback__, path)}")
                continue
            reply("loaded", [k for k, v in vars(module).items() if callable(v) and not k.startswith("_")])
        elif kind == "call":
            name, forbid, args, kwargs, strict = rest
            before = {k: pickle.dumps(v) for k, v in _mutable(args, kwargs)}
            args = [_trusted(a) if _is_function(a) else a for a in args]
            kwargs = {k: _trusted(v) if _is_function(v) else v for k, v in kwargs.items()}
            _STATE.update(forbid=frozenset(forbid), hit=None)
            try:
                with _STATE["strict"]() if strict else contextlib.nullcontext():
                    answer = getattr(module, name)(*args, **kwargs)
                outcome = ("ok", _as_data(answer))
            except SystemExit as e:
                outcome = ("exit", e.code if isinstance(e.code, (int, str, type(None))) else repr(e.code))
            except KeyboardInterrupt:
                outcome = ("interrupt",)
            except _Forbidden as e:
                outcome = ("forbidden", str(e))
            except BaseException as e:
                outcome = ("raised", type(e).__name__, _one_line(e), _where(e.__traceback__, path))
            finally:
                _STATE["forbid"] = frozenset()
            if _STATE["hit"]:                    # caught by the student's own try/except
                outcome = ("forbidden", _STATE["hit"])
            try:                                 # the arguments the student changed in place go back too
                changed = {k: v for k, v in _mutable(args, kwargs) if _pickled(v) != before.get(k)}
                reply(*outcome, changed)
            except Exception:
                what = outcome[1] if outcome[0] == "ok" and not _pickles(outcome[1]) else "an argument changed"
                reply("unsendable", _one_line(what if isinstance(what, str) else f"a {type(what).__name__}", 80))


def _as_data(value, depth=0):
    """An answer as plain data: arrays of NumPy's subclasses, and array-likes such as torch
    tensors, as NumPy arrays (inside tuples, lists and dicts too)."""
    import numpy as np
    if depth > 3:
        return value
    if isinstance(value, (tuple, list)):
        return type(value)(_as_data(v, depth + 1) for v in value) if type(value) in (tuple, list) else value
    if type(value) is dict:
        return {k: _as_data(v, depth + 1) for k, v in value.items()}
    if isinstance(value, np.ndarray) and type(value) is not np.ndarray or \
            not isinstance(value, (np.ndarray, np.generic)) and hasattr(value, "__array__"):
        try:
            return np.asarray(value.detach().cpu() if hasattr(value, "detach") else value)
        except Exception:
            return value
    return value


def _mutable(args, kwargs):
    """(position or name, value) of the arguments a function can change in place."""
    import numpy as np
    items = list(enumerate(args)) + list(kwargs.items())
    return [(k, v) for k, v in items if isinstance(v, (np.ndarray, list, dict))]


def _pickled(value):
    try:
        return pickle.dumps(value)
    except Exception:
        return None


def _pickles(value):
    return _pickled(value) is not None


def _orphan_watch(parent):
    """End this process once the checker is gone (killed), even if the student's code loops."""
    while True:
        time.sleep(0.5)
        if os.getppid() != parent:
            os._exit(1)


def _is_function(value):
    import functools
    import types
    return isinstance(value, (types.FunctionType, functools.partial))
