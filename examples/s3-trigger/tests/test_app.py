import os
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "src"))

import app  # noqa: E402


def s3_event(key, size, name="ObjectCreated:Put"):
    return {
        "Records": [
            {
                "eventSource": "aws:s3",
                "eventName": name,
                "s3": {"bucket": {"name": "uploads"}, "object": {"key": key, "size": size}},
            }
        ]
    }


class InspectTest(unittest.TestCase):
    def test_keys_are_decoded_and_classified(self):
        result = app.handler(s3_event("incoming/holiday+photo%281%29.JPG", 2048), None)
        self.assertEqual(result["inspected"], 1)
        upload = result["uploads"][0]
        self.assertEqual(upload["key"], "incoming/holiday photo(1).JPG")
        self.assertEqual(upload["kind"], "image")
        self.assertFalse(upload["too_large"])

    def test_large_files_are_flagged(self):
        result = app.handler(s3_event("incoming/dump.tar", app.MAX_BYTES + 1), None)
        self.assertEqual(result["too_large"], ["incoming/dump.tar"])

    def test_other_events_are_ignored(self):
        self.assertEqual(app.handler(s3_event("a.txt", 1, "ObjectRemoved:Delete"), None)["inspected"], 0)


if __name__ == "__main__":
    unittest.main()
