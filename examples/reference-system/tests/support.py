"""Shared set-up for the unit tests: an in-process moto AWS, the items and
changes tables, and imports of each function's module by folder."""

import importlib.util
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
FUNCTIONS = os.path.join(HERE, "..", "functions")

# The in-process AWS only answers AWS's own host names: an endpoint in the
# environment (a pipeline pointed at an emulator) would send the unit tests
# to a shared, real service instead.
for _name in [n for n in os.environ if n.startswith("AWS_ENDPOINT_URL")]:
    del os.environ[_name]
os.environ.setdefault("AWS_DEFAULT_REGION", "eu-west-1")
os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")

import boto3  # noqa: E402
from moto import mock_aws  # noqa: E402,F401


def load(function):
    """The function's app module, freshly imported (module state reset)."""
    path = os.path.join(FUNCTIONS, function, "app.py")
    name = "%s_app" % function
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def create_tables():
    dynamodb = boto3.client("dynamodb")
    dynamodb.create_table(
        TableName="items",
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    dynamodb.create_table(
        TableName="item-changes",
        KeySchema=[{"AttributeName": "change_id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "change_id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    return boto3.resource("dynamodb").Table("items")


def url_event(method, path, body=None, query=None, headers=None):
    import json

    return {
        "version": "2.0",
        "rawPath": path,
        "queryStringParameters": query,
        "headers": headers or {},
        "requestContext": {"http": {"method": method, "path": path}},
        "body": None if body is None else (body if isinstance(body, str) else json.dumps(body)),
        "isBase64Encoded": False,
    }
