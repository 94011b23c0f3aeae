"""slipway's Lambda runtime launcher for Python.

Started as `python bootstrap.py` in the task root with the environment Lambda
sets. With SLIPWAY_RUNTIME_CLIENT=auto it hands over to awslambdaric (the
client AWS ships in its images) when that is importable; otherwise, or with
SLIPWAY_RUNTIME_CLIENT=builtin, it runs the small client below, which speaks
the Runtime API over one keep-alive HTTP/1.1 connection and imports nothing
heavier than `socket` and `json` on the way to the first invocation.
"""

import json
import os
import socket
import sys
import time

API = os.environ["AWS_LAMBDA_RUNTIME_API"]
HANDLER = os.environ["_HANDLER"]
PREFIX = "/2018-06-01/runtime/"


def _hand_over_to_awslambdaric(required):
    try:
        from awslambdaric.__main__ import main
    except ImportError:
        if required:
            _Client().post(
                PREFIX + "init/error",
                _error_json(
                    "awslambdaric is not importable by " + sys.executable,
                    "Runtime.ClientMissing",
                ),
                {"Lambda-Runtime-Function-Error-Type": "Runtime.ClientMissing"},
            )
            sys.exit(1)
        return
    main(["awslambdaric", HANDLER])
    sys.exit(0)


class _Client:
    """A minimal HTTP/1.1 client for the Runtime API on 127.0.0.1."""

    def __init__(self):
        host, _, port = API.rpartition(":")
        self.address = (host, int(port))
        self.sock = None
        self.buf = b""

    def _connect(self):
        self.sock = socket.create_connection(self.address)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = b""

    def request(self, method, path, body=b"", headers=None):
        head = "%s %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: slipway-bootstrap/1\r\nContent-Length: %d\r\n" % (
            method,
            path,
            API,
            len(body),
        )
        for name, value in (headers or {}).items():
            head += "%s: %s\r\n" % (name, value)
        data = head.encode("latin-1") + b"\r\n" + body
        for attempt in (0, 1):
            if self.sock is None:
                self._connect()
            try:
                self.sock.sendall(data)
                return self._read_response()
            except (ConnectionError, OSError):
                # The server may close an idle keep-alive connection; retry once on a new one.
                self.sock = None
                if attempt:
                    raise

    def _fill(self):
        chunk = self.sock.recv(65536)
        if not chunk:
            raise ConnectionError("runtime API closed the connection")
        self.buf += chunk

    def _read_response(self):
        while b"\r\n\r\n" not in self.buf:
            self._fill()
        head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        if headers.get("transfer-encoding", "").lower() == "chunked":
            body = self._read_chunked()
        else:
            length = int(headers.get("content-length", "0"))
            while len(self.buf) < length:
                self._fill()
            body, self.buf = self.buf[:length], self.buf[length:]
        if headers.get("connection", "").lower() == "close":
            self.sock.close()
            self.sock = None
        return status, headers, body

    def _read_chunked(self):
        body = b""
        while True:
            while b"\r\n" not in self.buf:
                self._fill()
            size_line, self.buf = self.buf.split(b"\r\n", 1)
            size = int(size_line.split(b";")[0], 16)
            while len(self.buf) < size + 2:
                self._fill()
            body += self.buf[:size]
            self.buf = self.buf[size + 2 :]
            if size == 0:
                return body

    def post(self, path, body, headers=None):
        status, _, reply = self.request("POST", path, body, headers)
        if status != 202:
            sys.stdout.write(
                "[ERROR] runtime API answered %d to POST %s: %s\n"
                % (status, path, reply.decode("utf-8", "replace"))
            )


class _Identity:
    def __init__(self, data):
        self.cognito_identity_id = data.get("cognitoIdentityId")
        self.cognito_identity_pool_id = data.get("cognitoIdentityPoolId")


class _ClientContext:
    def __init__(self, data):
        self.client = data.get("client")
        self.custom = data.get("custom")
        self.env = data.get("env")


class LambdaContext:
    """The context object handlers receive, with the attributes Lambda's has."""

    def __init__(self, headers):
        self.aws_request_id = headers.get("lambda-runtime-aws-request-id")
        self.invoked_function_arn = headers.get("lambda-runtime-invoked-function-arn")
        self.function_name = os.environ.get("AWS_LAMBDA_FUNCTION_NAME")
        self.function_version = os.environ.get("AWS_LAMBDA_FUNCTION_VERSION")
        self.memory_limit_in_mb = os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE")
        self.log_group_name = os.environ.get("AWS_LAMBDA_LOG_GROUP_NAME")
        self.log_stream_name = os.environ.get("AWS_LAMBDA_LOG_STREAM_NAME")
        self._deadline_ms = int(headers.get("lambda-runtime-deadline-ms", "0"))
        identity = headers.get("lambda-runtime-cognito-identity")
        self.identity = _Identity(json.loads(identity) if identity else {})
        client_context = headers.get("lambda-runtime-client-context")
        self.client_context = (
            _ClientContext(json.loads(client_context)) if client_context else None
        )

    def get_remaining_time_in_millis(self):
        return max(0, self._deadline_ms - int(time.time() * 1000))


class _Fault(Exception):
    def __init__(self, error_type, message, trace=None):
        Exception.__init__(self, message)
        self.error_type = error_type
        self.message = message
        self.trace = trace or []


def _error_json(message, error_type, request_id="", stack_trace=None):
    return json.dumps(
        {
            "errorMessage": message,
            "errorType": error_type,
            "requestId": request_id,
            "stackTrace": stack_trace or [],
        }
    ).encode("utf-8")


def _log_error(error_type, message, stack_trace):
    lines = ["[ERROR] %s: %s" % (error_type, message)]
    if stack_trace:
        lines.append("Traceback (most recent call last):")
        for element in stack_trace:
            lines.extend(element.rstrip("\n").splitlines())
    sys.stdout.write("\n".join(lines) + "\n")


def _user_frames(tb):
    import traceback

    frames = traceback.extract_tb(tb)
    frames = [f for f in frames if not f.filename.endswith("/bootstrap.py")]
    return traceback.format_list(frames)


def _load_handler():
    import importlib

    try:
        module_name, function_name = HANDLER.rsplit(".", 1)
    except ValueError as e:
        raise _Fault("Runtime.MalformedHandlerName", "Bad handler '%s': %s" % (HANDLER, e))
    if module_name.split(".")[0] in sys.builtin_module_names:
        raise _Fault(
            "Runtime.BuiltInModuleConflict",
            "Cannot use built-in module %s as a handler module" % module_name,
        )
    try:
        module = importlib.import_module(module_name.replace("/", "."))
    except ImportError as e:
        raise _Fault(
            "Runtime.ImportModuleError",
            "Unable to import module '%s': %s" % (module_name, e),
        )
    except SyntaxError as e:
        raise _Fault(
            "Runtime.UserCodeSyntaxError",
            "Syntax error in module '%s': %s" % (module_name, e),
            ['  File "%s" Line %s\n    %s' % (e.filename, e.lineno, e.text)],
        )
    try:
        return getattr(module, function_name)
    except AttributeError:
        raise _Fault(
            "Runtime.HandlerNotFound",
            "Handler '%s' missing on module '%s'" % (function_name, module_name),
        )


class _RequestIdFilter:
    request_id = ""

    def filter(self, record):
        record.aws_request_id = _RequestIdFilter.request_id
        return True


def _setup_logging():
    # The handler the Lambda Python runtime installs on the root logger.
    import logging

    logging.Formatter.converter = time.gmtime
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(
        logging.Formatter(
            "[%(levelname)s]\t%(asctime)s.%(msecs)03dZ\t%(aws_request_id)s\t%(message)s",
            "%Y-%m-%dT%H:%M:%S",
        )
    )
    handler.addFilter(_RequestIdFilter())
    logging.getLogger().addHandler(handler)
    level = os.environ.get("AWS_LAMBDA_LOG_LEVEL")
    if level:
        logging.getLogger().setLevel(level.upper())


def _marshal(result):
    if isinstance(result, bytes):
        return result, "application/unknown"
    try:
        return json.dumps(result).encode("utf-8"), "application/json"
    except (TypeError, ValueError) as e:
        raise _Fault("Runtime.MarshalError", "Unable to marshal response: %s" % e)


def run_builtin():
    client = _Client()
    try:
        handler = _load_handler()
    except _Fault as fault:
        _log_error(fault.error_type, fault.message, fault.trace)
        client.post(
            PREFIX + "init/error",
            _error_json(fault.message, fault.error_type, "", fault.trace),
            {"Lambda-Runtime-Function-Error-Type": fault.error_type},
        )
        sys.exit(1)
    except Exception as e:
        trace = _user_frames(sys.exc_info()[2])
        _log_error(type(e).__name__, str(e), trace)
        client.post(
            PREFIX + "init/error",
            _error_json(str(e), type(e).__name__, "", trace),
            {"Lambda-Runtime-Function-Error-Type": "Runtime.Unknown"},
        )
        sys.exit(1)
    if "logging" in sys.modules or os.environ.get("AWS_LAMBDA_LOG_LEVEL"):
        # Importing logging costs milliseconds at every cold start: only pay
        # for Lambda's root handler when the function uses logging.
        _setup_logging()

    while True:
        status, headers, body = client.request("GET", PREFIX + "invocation/next")
        if status != 200:
            sys.stdout.write("[ERROR] invocation/next answered %d\n" % status)
            sys.exit(1)
        request_id = headers.get("lambda-runtime-aws-request-id", "")
        _RequestIdFilter.request_id = request_id
        trace_id = headers.get("lambda-runtime-trace-id")
        if trace_id:
            os.environ["_X_AMZN_TRACE_ID"] = trace_id
        else:
            os.environ.pop("_X_AMZN_TRACE_ID", None)
        try:
            context = LambdaContext(headers)
            event = json.loads(body) if body else {}
            payload, content_type = _marshal(handler(event, context))
        except _Fault as fault:
            _log_error(fault.error_type, fault.message, fault.trace)
            client.post(
                PREFIX + "invocation/%s/error" % request_id,
                _error_json(fault.message, fault.error_type, request_id, fault.trace),
                {"Lambda-Runtime-Function-Error-Type": fault.error_type},
            )
            continue
        except Exception as e:
            trace = _user_frames(sys.exc_info()[2])
            error_type = type(e).__name__
            _log_error(error_type, str(e), trace)
            client.post(
                PREFIX + "invocation/%s/error" % request_id,
                _error_json(str(e), error_type, request_id, trace),
                {"Lambda-Runtime-Function-Error-Type": error_type},
            )
            continue
        client.post(
            PREFIX + "invocation/%s/response" % request_id,
            payload,
            {"Content-Type": content_type},
        )


if __name__ == "__main__":
    mode = os.environ.pop("SLIPWAY_RUNTIME_CLIENT", "auto")
    sys.path[0:1] = []  # this folder holds only the launcher; the task root comes from PYTHONPATH
    if mode != "builtin":
        _hand_over_to_awslambdaric(required=mode == "awslambdaric")
    run_builtin()
