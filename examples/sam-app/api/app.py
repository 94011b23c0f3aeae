"""A small JSON API for a Function URL (payload format 2.0).

    GET    /items          list items
    POST   /items          create one: {"name": "...", "price": 1.5}
    GET    /items/{id}     read one
    DELETE /items/{id}     delete one
    GET    /health         liveness

Items live in the execution environment's memory: enough to show warm
environments being reused; a real service would use a table.
"""

import base64
import json

ITEMS = {}
NEXT_ID = [1]


def response(status, body=None, headers=None):
    out = {"statusCode": status, "headers": {"content-type": "application/json", **(headers or {})}}
    if body is not None:
        out["body"] = json.dumps(body)
    return out


def error(status, message):
    return response(status, {"error": message})


def read_json_body(event):
    body = event.get("body") or ""
    if event.get("isBase64Encoded"):
        body = base64.b64decode(body).decode("utf-8")
    try:
        return json.loads(body) if body else {}
    except json.JSONDecodeError:
        raise ValueError("the body is not JSON")


def create(event):
    try:
        data = read_json_body(event)
    except ValueError as e:
        return error(400, str(e))
    name, price = data.get("name"), data.get("price")
    if not isinstance(name, str) or not name.strip():
        return error(400, "name is required")
    if not isinstance(price, (int, float)) or price < 0:
        return error(400, "price must be a non-negative number")
    item_id = str(NEXT_ID[0])
    NEXT_ID[0] += 1
    ITEMS[item_id] = {"id": item_id, "name": name.strip(), "price": price}
    return response(201, ITEMS[item_id], {"location": "/items/" + item_id})


def handler(event, context):
    method = event["requestContext"]["http"]["method"]
    parts = [p for p in event.get("rawPath", "/").split("/") if p]

    if parts == ["health"]:
        return {"status": "ok"}  # plain JSON: Lambda answers 200 application/json
    if parts == ["items"]:
        if method == "GET":
            return response(200, {"items": sorted(ITEMS.values(), key=lambda i: int(i["id"]))})
        if method == "POST":
            return create(event)
        return error(405, "use GET or POST")
    if len(parts) == 2 and parts[0] == "items":
        item = ITEMS.get(parts[1])
        if item is None:
            return error(404, "no item " + parts[1])
        if method == "GET":
            return response(200, item)
        if method == "DELETE":
            del ITEMS[parts[1]]
            return response(204)
        return error(405, "use GET or DELETE")
    return error(404, "no route for " + event.get("rawPath", "/"))
