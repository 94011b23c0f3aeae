import json
import unittest

import support
from support import mock_aws


def sqs_event(*bodies):
    return {"Records": [{"messageId": "m%d" % i, "body": b if isinstance(b, str) else json.dumps(b)} for i, b in enumerate(bodies)]}


@mock_aws
class ChangeConsumerTest(unittest.TestCase):
    def setUp(self):
        self.table = support.create_tables()
        self.table.put_item(Item={"id": "i1", "name": "widget", "quantity": 5, "tags": [], "version": 1})
        self.app = support.load("change_consumer")

    def quantity(self):
        return int(self.table.get_item(Key={"id": "i1"})["Item"]["quantity"])

    def test_a_redelivered_change_applies_once(self):
        change = {"change_id": "c1", "item_id": "i1", "op": "adjust_quantity", "value": 2}
        self.assertEqual(self.app.handler(sqs_event(change), None), {"batchItemFailures": []})
        self.assertEqual(self.app.handler(sqs_event(change), None), {"batchItemFailures": []})
        self.assertEqual(self.quantity(), 7)

    def test_bad_messages_fail_alone(self):
        event = sqs_event(
            {"change_id": "c2", "item_id": "i1", "op": "set_quantity", "value": 9},
            "not json",
            {"change_id": "c3", "item_id": "i1", "op": "explode"},
            {"change_id": "c4", "item_id": "missing", "op": "set_quantity", "value": 1},
            {"change_id": "c5", "item_id": "i1", "op": "adjust_quantity", "value": -100},
        )
        out = self.app.handler(event, None)
        self.assertEqual([f["itemIdentifier"] for f in out["batchItemFailures"]], ["m1", "m2", "m3", "m4"])
        self.assertEqual(self.quantity(), 9)

    def test_rename_and_delete(self):
        self.app.handler(sqs_event({"change_id": "c6", "item_id": "i1", "op": "rename", "value": " gizmo "}), None)
        self.assertEqual(self.table.get_item(Key={"id": "i1"})["Item"]["name"], "gizmo")
        self.app.handler(sqs_event({"change_id": "c7", "item_id": "i1", "op": "delete"}), None)
        self.assertNotIn("Item", self.table.get_item(Key={"id": "i1"}))


if __name__ == "__main__":
    unittest.main()
