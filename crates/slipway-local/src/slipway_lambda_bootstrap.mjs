// slipway's Lambda runtime launcher for Node.js.
//
// Started as `node slipway_lambda_bootstrap.mjs` in the task root with the
// environment Lambda sets. An ES module itself, so `import()` loads the
// handler whether it is an ES module or CommonJS (by extension and the
// nearest package.json "type", as Node.js and Lambda decide). It speaks the
// Runtime API over one keep-alive connection, formats console output as
// Lambda's Node.js runtime does, and reports errors with Lambda's types.

import http from "node:http";
import fs from "node:fs";
import path from "node:path";
import util from "node:util";
import { pathToFileURL } from "node:url";

const API = process.env.AWS_LAMBDA_RUNTIME_API;
const HANDLER = process.env._HANDLER ?? "";
const TASK = process.env.LAMBDA_TASK_ROOT ?? process.cwd();
const PREFIX = "/2018-06-01/runtime/";
const [HOST, PORT] = [API.slice(0, API.lastIndexOf(":")), Number(API.slice(API.lastIndexOf(":") + 1))];
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });

let requestId = "";

function request(method, p, body, headers = {}) {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? undefined : Buffer.from(body);
    const req = http.request(
      {
        host: HOST,
        port: PORT,
        method,
        path: p,
        agent,
        headers: { "User-Agent": "slipway-bootstrap/1", ...headers, ...(data ? { "Content-Length": data.length } : {}) },
      },
      (res) => {
        const chunks = [];
        res.on("data", (c) => chunks.push(c));
        res.on("end", () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }));
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    if (data) req.write(data);
    req.end();
  });
}

async function post(p, body, headers) {
  const res = await request("POST", p, body, headers);
  if (res.status !== 202) {
    process.stdout.write(`[ERROR] runtime API answered ${res.status} to POST ${p}: ${res.body}\n`);
  }
}

// Lambda's Node.js runtime prefixes every console line with the time, the
// request id and the level.
function patchConsole() {
  const levels = { log: "INFO", info: "INFO", warn: "WARN", error: "ERROR", debug: "DEBUG", trace: "TRACE" };
  for (const [method, level] of Object.entries(levels)) {
    console[method] = (...args) => {
      const text = util.format(...args).replace(/\n/g, "\r");
      process.stdout.write(`${new Date().toISOString()}\t${requestId || "undefined"}\t${level}\t${text}\n`);
    };
  }
}

class Fault extends Error {
  constructor(type, message, cause) {
    super(message);
    this.errorType = type;
    if (cause?.stack) this.stack = cause.stack;
  }
}

function errorJson(err) {
  const errorType = err?.errorType ?? err?.name ?? "Error";
  const errorMessage = err instanceof Error ? err.message : String(err);
  const stackTrace = typeof err?.stack === "string" ? err.stack.split("\n").slice(1).map((s) => s.trim()) : [];
  return { errorType, errorMessage, trace: stackTrace };
}

function logError(e) {
  const { errorType, errorMessage, trace } = errorJson(e);
  process.stdout.write(
    `${new Date().toISOString()}\t${requestId || "undefined"}\tERROR\t` +
      JSON.stringify({ errorType, errorMessage, stack: trace }) + "\n",
  );
}

function payloadOf(e) {
  const { errorType, errorMessage, trace } = errorJson(e);
  return JSON.stringify({ errorType, errorMessage, requestId, stackTrace: trace });
}

async function loadHandler() {
  const dot = HANDLER.lastIndexOf(".");
  if (dot <= 0 || dot === HANDLER.length - 1) {
    throw new Fault("Runtime.MalformedHandlerName", `Bad handler ${HANDLER}`);
  }
  const moduleName = HANDLER.slice(0, dot);
  const functionName = HANDLER.slice(dot + 1);
  const file = [".js", ".mjs", ".cjs"]
    .map((ext) => path.resolve(TASK, moduleName + ext))
    .find((f) => fs.existsSync(f));
  if (!file) {
    throw new Fault("Runtime.ImportModuleError", `Error: Cannot find module '${moduleName}'`);
  }
  let mod;
  try {
    mod = await import(pathToFileURL(file).href);
  } catch (e) {
    if (e instanceof SyntaxError) throw new Fault("Runtime.UserCodeSyntaxError", `${e.name}: ${e.message}`, e);
    throw new Fault("Runtime.ImportModuleError", `${e.name}: ${e.message}`, e);
  }
  const handler = mod[functionName] ?? mod.default?.[functionName];
  if (typeof handler !== "function") {
    throw new Fault("Runtime.HandlerNotFound", `${moduleName}.${functionName} is undefined or not exported`);
  }
  return handler;
}

function context(headers) {
  const deadline = Number(headers["lambda-runtime-deadline-ms"] ?? 0);
  const identity = headers["lambda-runtime-cognito-identity"];
  const clientContext = headers["lambda-runtime-client-context"];
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName: process.env.AWS_LAMBDA_FUNCTION_NAME,
    functionVersion: process.env.AWS_LAMBDA_FUNCTION_VERSION,
    invokedFunctionArn: headers["lambda-runtime-invoked-function-arn"],
    memoryLimitInMB: process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE,
    awsRequestId: headers["lambda-runtime-aws-request-id"],
    logGroupName: process.env.AWS_LAMBDA_LOG_GROUP_NAME,
    logStreamName: process.env.AWS_LAMBDA_LOG_STREAM_NAME,
    identity: identity ? JSON.parse(identity) : undefined,
    clientContext: clientContext ? JSON.parse(clientContext) : undefined,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
  };
}

// Callback-style handlers (three parameters) answer through the callback.
function call(handler, event, ctx) {
  if (handler.length >= 3) {
    return new Promise((resolve, reject) => {
      const done = (err, result) => (err ? reject(err) : resolve(result));
      const r = handler(event, ctx, done);
      if (r && typeof r.then === "function") r.then(resolve, reject);
    });
  }
  return Promise.resolve().then(() => handler(event, ctx));
}

async function main() {
  patchConsole();
  let handler;
  try {
    handler = await loadHandler();
  } catch (e) {
    logError(e);
    await post(PREFIX + "init/error", payloadOf(e), {
      "Lambda-Runtime-Function-Error-Type": e.errorType ?? "Runtime.Unknown",
      "Content-Type": "application/json",
    });
    process.exit(1);
  }
  process.on("unhandledRejection", async (reason) => {
    const e = new Fault("Runtime.UnhandledPromiseRejection", String(reason?.stack ?? reason), reason);
    logError(e);
    await post(PREFIX + `invocation/${requestId}/error`, payloadOf(e), {
      "Lambda-Runtime-Function-Error-Type": e.errorType,
    });
    process.exit(128);
  });
  for (;;) {
    const next = await request("GET", PREFIX + "invocation/next");
    if (next.status !== 200) {
      process.stdout.write(`[ERROR] invocation/next answered ${next.status}\n`);
      process.exit(1);
    }
    requestId = next.headers["lambda-runtime-aws-request-id"] ?? "";
    const trace = next.headers["lambda-runtime-trace-id"];
    if (trace) process.env._X_AMZN_TRACE_ID = trace;
    else delete process.env._X_AMZN_TRACE_ID;
    let body;
    try {
      const event = next.body.length ? JSON.parse(next.body.toString("utf8")) : {};
      const result = await call(handler, event, context(next.headers));
      try {
        body = JSON.stringify(result === undefined ? null : result);
      } catch (e) {
        throw new Fault("Runtime.MarshalError", `Unable to stringify response body: ${e.message}`, e);
      }
    } catch (e) {
      logError(e);
      await post(PREFIX + `invocation/${requestId}/error`, payloadOf(e), {
        "Lambda-Runtime-Function-Error-Type": e?.errorType ?? e?.name ?? "Error",
        "Content-Type": "application/json",
      });
      continue;
    }
    await post(PREFIX + `invocation/${requestId}/response`, body, { "Content-Type": "application/json" });
  }
}

main();
