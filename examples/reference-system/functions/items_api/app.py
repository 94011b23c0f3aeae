"""The items API: create, read, update, delete and list items in a DynamoDB
table, behind a Lambda Function URL (payload format 2.0).

Routes:
    POST   /items             create; 201 with the item and a Location header
    GET    /items             list; ?limit=1..100&cursor=<opaque> pages through
    GET    /items/{id}        read; 404 when absent
    PUT    /items/{id}        replace name/quantity/tags; optional If-Match: <version>
    DELETE /items/{id}        delete; 204, or 404 when absent

Every write is conditional, so two clients never overwrite each other
silently: a create never replaces an item, an update with If-Match fails
with 409 when someone else wrote first.
"""

import base64
import json
import os
import uuid
from decimal import Decimal

import boto3
from botocore.exceptions import ClientError

TABLE_NAME = os.environ.get("TABLE_NAME", "items")
MAX_PAGE = 100
DEFAULT_PAGE = 25

_table = None


def table():
    """Made once per execution environment, on first use (tests replace it)."""
    global _table
    if _table is None:
        _table = boto3.resource("dynamodb").Table(TABLE_NAME)
    return _table


class HttpError(Exception):
    def __init__(self, status, message):
        super().__init__(message)
        self.status = status
        self.message = message


def response(status, body=None, headers=None):
    out = {"statusCode": status, "headers": {"content-type": "application/json", **(headers or {})}}
    if body is not None:
        out["body"] = json.dumps(body, default=_json_default, sort_keys=True)
    return out


def _json_default(value):
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    raise TypeError("not JSON serialisable: %r" % type(value))


def parse_body(event):
    raw = event.get("body") or ""
    if event.get("isBase64Encoded"):
        raw = base64.b64decode(raw).decode("utf-8")
    try:
        body = json.loads(raw)
    except ValueError:
        raise HttpError(400, "the body is not JSON")
    if not isinstance(body, dict):
        raise HttpError(400, "the body must be a JSON object")
    return body


def validate(body):
    """The writable fields, checked; unknown fields are refused so typos surface."""
    allowed = {"name", "quantity", "tags"}
    unknown = sorted(set(body) - allowed)
    if unknown:
        raise HttpError(400, "unknown field(s): %s" % ", ".join(unknown))
    name = body.get("name")
    if not isinstance(name, str) or not 1 <= len(name.strip()) <= 100:
        raise HttpError(400, "`name` must be a string of 1 to 100 characters")
    quantity = body.get("quantity", 0)
    if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < 0:
        raise HttpError(400, "`quantity` must be a whole number, 0 or more")
    tags = body.get("tags", [])
    if not isinstance(tags, list) or not all(isinstance(t, str) and t for t in tags) or len(tags) > 20:
        raise HttpError(400, "`tags` must be a list of at most 20 non-empty strings")
    return {"name": name.strip(), "quantity": quantity, "tags": sorted(set(tags))}


def encode_cursor(key):
    return base64.urlsafe_b64encode(json.dumps(key, default=_json_default).encode()).decode()


def decode_cursor(cursor):
    try:
        key = json.loads(base64.urlsafe_b64decode(cursor.encode()))
    except (ValueError, TypeError):
        raise HttpError(400, "`cursor` is not one this API gave out")
    if not isinstance(key, dict) or set(key) != {"id"} or not isinstance(key["id"], str):
        raise HttpError(400, "`cursor` is not one this API gave out")
    return key


def list_items(query):
    try:
        limit = int(query.get("limit", DEFAULT_PAGE))
    except ValueError:
        raise HttpError(400, "`limit` must be a number")
    if not 1 <= limit <= MAX_PAGE:
        raise HttpError(400, "`limit` must be between 1 and %d" % MAX_PAGE)
    args = {"Limit": limit}
    if query.get("cursor"):
        args["ExclusiveStartKey"] = decode_cursor(query["cursor"])
    page = table().scan(**args)
    items = sorted(page.get("Items", []), key=lambda i: i["id"])
    body = {"items": items}
    if page.get("LastEvaluatedKey"):
        body["next_cursor"] = encode_cursor(page["LastEvaluatedKey"])
    return response(200, body)


def create_item(event):
    fields = validate(parse_body(event))
    item = {"id": str(uuid.uuid4()), "version": 1, **fields}
    table().put_item(Item=item, ConditionExpression="attribute_not_exists(id)")
    return response(201, item, {"location": "/items/" + item["id"]})


def get_item(item_id):
    item = table().get_item(Key={"id": item_id}).get("Item")
    if item is None:
        raise HttpError(404, "no item %s" % item_id)
    return response(200, item)


def update_item(item_id, event):
    fields = validate(parse_body(event))
    headers = {k.lower(): v for k, v in (event.get("headers") or {}).items()}
    condition = "attribute_exists(id)"
    values = {":name": fields["name"], ":quantity": fields["quantity"], ":tags": fields["tags"], ":one": 1}
    if "if-match" in headers:
        try:
            values[":expected"] = int(headers["if-match"].strip('"'))
        except ValueError:
            raise HttpError(400, "If-Match must be the item's version number")
        condition += " AND version = :expected"
    try:
        updated = table().update_item(
            Key={"id": item_id},
            UpdateExpression="SET #n = :name, quantity = :quantity, tags = :tags, version = version + :one",
            ConditionExpression=condition,
            ExpressionAttributeNames={"#n": "name"},
            ExpressionAttributeValues=values,
            ReturnValues="ALL_NEW",
        )
    except ClientError as e:
        if e.response["Error"]["Code"] != "ConditionalCheckFailedException":
            raise
        if table().get_item(Key={"id": item_id}).get("Item") is None:
            raise HttpError(404, "no item %s" % item_id)
        raise HttpError(409, "item %s changed since version %s" % (item_id, values[":expected"]))
    return response(200, updated["Attributes"])


def delete_item(item_id):
    try:
        table().delete_item(Key={"id": item_id}, ConditionExpression="attribute_exists(id)")
    except ClientError as e:
        if e.response["Error"]["Code"] == "ConditionalCheckFailedException":
            raise HttpError(404, "no item %s" % item_id)
        raise
    return {"statusCode": 204, "headers": {}}


def route(event):
    http = event.get("requestContext", {}).get("http", {})
    method = http.get("method", "GET").upper()
    parts = [p for p in (event.get("rawPath") or http.get("path") or "/").split("/") if p]
    query = event.get("queryStringParameters") or {}
    if parts == ["items"]:
        if method == "GET":
            return list_items(query)
        if method == "POST":
            return create_item(event)
        raise HttpError(405, "%s is not allowed on /items" % method)
    if len(parts) == 2 and parts[0] == "items":
        item_id = parts[1]
        if method == "GET":
            return get_item(item_id)
        if method == "PUT":
            return update_item(item_id, event)
        if method == "DELETE":
            return delete_item(item_id)
        raise HttpError(405, "%s is not allowed on /items/{id}" % method)
    raise HttpError(404, "no route for /%s" % "/".join(parts))


def handler(event, context):
    try:
        return route(event)
    except HttpError as e:
        return response(e.status, {"error": e.message})
