import json
import unittest

import support
from support import mock_aws, url_event


@mock_aws
class ItemsApiTest(unittest.TestCase):
    def setUp(self):
        self.table = support.create_tables()
        self.app = support.load("items_api")

    def call(self, *args, **kwargs):
        out = self.app.handler(url_event(*args, **kwargs), None)
        return out["statusCode"], json.loads(out["body"]) if out.get("body") else None, out["headers"]

    def test_create_read_update_delete(self):
        status, item, headers = self.call("POST", "/items", {"name": " widget ", "quantity": 3, "tags": ["b", "a", "a"]})
        self.assertEqual(status, 201)
        self.assertEqual((item["name"], item["quantity"], item["tags"], item["version"]), ("widget", 3, ["a", "b"], 1))
        self.assertEqual(headers["location"], "/items/" + item["id"])

        status, read, _ = self.call("GET", "/items/" + item["id"])
        self.assertEqual((status, read), (200, item))

        status, updated, _ = self.call("PUT", "/items/" + item["id"], {"name": "gadget", "quantity": 4}, headers={"If-Match": "1"})
        self.assertEqual((status, updated["name"], updated["version"]), (200, "gadget", 2))

        # A stale version is a conflict, not a silent overwrite.
        status, error, _ = self.call("PUT", "/items/" + item["id"], {"name": "late"}, headers={"If-Match": "1"})
        self.assertEqual(status, 409, error)

        self.assertEqual(self.call("DELETE", "/items/" + item["id"])[0], 204)
        self.assertEqual(self.call("GET", "/items/" + item["id"])[0], 404)
        self.assertEqual(self.call("DELETE", "/items/" + item["id"])[0], 404)
        self.assertEqual(self.call("PUT", "/items/" + item["id"], {"name": "x"})[0], 404)

    def test_validation_and_routing(self):
        cases = [
            (("POST", "/items", "not json"), 400),
            (("POST", "/items", [1]), 400),
            (("POST", "/items", {"name": ""}), 400),
            (("POST", "/items", {"name": "a", "quantity": -1}), 400),
            (("POST", "/items", {"name": "a", "quantity": True}), 400),
            (("POST", "/items", {"name": "a", "colour": "red"}), 400),
            (("PATCH", "/items"), 405),
            (("GET", "/nothing"), 404),
            (("GET", "/items", None, {"limit": "0"}), 400),
            (("GET", "/items", None, {"cursor": "!!"}), 400),
        ]
        for args, expected in cases:
            with self.subTest(args=args):
                self.assertEqual(self.call(*args)[0], expected)

    def test_pagination_visits_every_item_once(self):
        created = {self.call("POST", "/items", {"name": "item %d" % i})[1]["id"] for i in range(7)}
        seen, cursor, pages = [], None, 0
        while True:
            query = {"limit": "3", **({"cursor": cursor} if cursor else {})}
            status, page, _ = self.call("GET", "/items", None, query)
            self.assertEqual(status, 200)
            seen += [i["id"] for i in page["items"]]
            pages += 1
            cursor = page.get("next_cursor")
            if not cursor:
                break
        self.assertEqual(sorted(seen), sorted(created))
        self.assertGreaterEqual(pages, 3)


if __name__ == "__main__":
    unittest.main()
