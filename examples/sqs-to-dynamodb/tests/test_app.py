"""Unit tests with a stand-in DynamoDB client; the end-to-end test against
moto server lives in slipway's own test suite (crates/slipway/tests/cli/local.rs)."""

import json
import os
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "src"))

try:
    import boto3  # noqa: F401  (the Lambda runtime provides it)
except ImportError:  # pragma: no cover - a machine without boto3
    boto3 = None


class ConditionalCheckFailed(Exception):
    pass


class FakeDynamoDB:
    class exceptions:
        ConditionalCheckFailedException = ConditionalCheckFailed

    def __init__(self):
        self.items = {}

    def put_item(self, TableName, Item, ConditionExpression):
        key = Item["order_id"]["S"]
        if key in self.items:
            raise ConditionalCheckFailed()
        self.items[key] = Item


def sqs_event(*bodies):
    return {
        "Records": [
            {"messageId": "m%d" % i, "receiptHandle": "r%d" % i, "body": body, "eventSource": "aws:sqs"}
            for i, body in enumerate(bodies)
        ]
    }


@unittest.skipIf(boto3 is None, "boto3 is not installed")
class HandlerTest(unittest.TestCase):
    def setUp(self):
        import app

        self.app = app
        self.fake = FakeDynamoDB()
        app._dynamodb = self.fake

    def test_valid_orders_are_stored(self):
        result = self.app.handler(
            sqs_event(json.dumps({"order_id": "1", "customer": "ada", "total": "12.50"})), None
        )
        self.assertEqual(result, {"batchItemFailures": []})
        self.assertEqual(self.fake.items["1"]["total"], {"N": "12.50"})

    def test_only_bad_messages_are_reported(self):
        result = self.app.handler(
            sqs_event(
                json.dumps({"order_id": "2", "customer": "bob", "total": 3}),
                "not json",
                json.dumps({"order_id": "3", "customer": "cy"}),
            ),
            None,
        )
        self.assertEqual(result, {"batchItemFailures": [{"itemIdentifier": "m1"}, {"itemIdentifier": "m2"}]})
        self.assertEqual(sorted(self.fake.items), ["2"])

    def test_a_duplicate_delivery_is_stored_once(self):
        body = json.dumps({"order_id": "4", "customer": "dee", "total": "1"})
        self.assertEqual(self.app.handler(sqs_event(body, body), None), {"batchItemFailures": []})
        self.assertEqual(len(self.fake.items), 1)


if __name__ == "__main__":
    unittest.main()
