import json
import os
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "src"))

import app  # noqa: E402


def request(method, path, body=None):
    event = {
        "version": "2.0",
        "rawPath": path,
        "rawQueryString": "",
        "headers": {"content-type": "application/json"},
        "requestContext": {"http": {"method": method, "path": path}},
        "isBase64Encoded": False,
    }
    if body is not None:
        event["body"] = json.dumps(body)
    return event


class ApiTest(unittest.TestCase):
    def setUp(self):
        app.ITEMS.clear()
        app.NEXT_ID[0] = 1

    def test_create_read_list_delete(self):
        created = app.handler(request("POST", "/items", {"name": "tea", "price": 2.5}), None)
        self.assertEqual(created["statusCode"], 201)
        self.assertEqual(created["headers"]["location"], "/items/1")
        read = app.handler(request("GET", "/items/1"), None)
        self.assertEqual(json.loads(read["body"]), {"id": "1", "name": "tea", "price": 2.5})
        listed = app.handler(request("GET", "/items"), None)
        self.assertEqual(len(json.loads(listed["body"])["items"]), 1)
        self.assertEqual(app.handler(request("DELETE", "/items/1"), None)["statusCode"], 204)
        self.assertEqual(app.handler(request("GET", "/items/1"), None)["statusCode"], 404)

    def test_bad_input_is_a_400(self):
        self.assertEqual(app.handler(request("POST", "/items", {"name": ""}), None)["statusCode"], 400)
        bad = request("POST", "/items")
        bad["body"] = "{nope"
        self.assertEqual(app.handler(bad, None)["statusCode"], 400)

    def test_health_is_plain_json(self):
        self.assertEqual(app.handler(request("GET", "/health"), None), {"status": "ok"})

    def test_unknown_routes_and_methods(self):
        self.assertEqual(app.handler(request("GET", "/nope"), None)["statusCode"], 404)
        self.assertEqual(app.handler(request("PUT", "/items"), None)["statusCode"], 405)


if __name__ == "__main__":
    unittest.main()
