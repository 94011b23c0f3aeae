import json
import unittest

import support
from support import boto3, mock_aws

try:
    import orjson  # noqa: F401
except ImportError:  # pragma: no cover
    orjson = None


def s3_event(bucket, key):
    return {"Records": [{"eventSource": "aws:s3", "s3": {"bucket": {"name": bucket}, "object": {"key": key}}}]}


@unittest.skipIf(orjson is None, "orjson is not installed on this machine (pip install orjson)")
@mock_aws
class IngestTest(unittest.TestCase):
    def setUp(self):
        self.table = support.create_tables()
        self.s3 = boto3.client("s3")
        self.s3.create_bucket(Bucket="uploads", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
        self.app = support.load("ingest")

    def test_csv_rows_are_written_and_bad_rows_skipped(self):
        body = "id,name,quantity,tags\na1,apple,3,fruit;red\na2,,1,\na3,cherry,x,\na4,date,0,\n"
        self.s3.put_object(Bucket="uploads", Key="in/batch+1.csv", Body=body.encode())
        out = self.app.handler(s3_event("uploads", "in/batch%2B1.csv"), None)
        self.assertEqual(out["files"][0]["written"], 2)
        self.assertEqual(out["files"][0]["skipped"], 2)
        self.assertEqual(self.table.get_item(Key={"id": "a1"})["Item"]["tags"], ["fruit", "red"])

    def test_json_array_and_json_lines(self):
        rows = [{"id": "j%d" % i, "name": "n%d" % i, "quantity": i} for i in range(60)]
        self.s3.put_object(Bucket="uploads", Key="a.json", Body=json.dumps(rows).encode())
        self.s3.put_object(Bucket="uploads", Key="b.jsonl", Body=b'{"id":"l1","name":"one"}\nnot json\n')
        self.assertEqual(self.app.handler(s3_event("uploads", "a.json"), None)["files"][0]["written"], 60)
        out = self.app.handler(s3_event("uploads", "b.jsonl"), None)["files"][0]
        self.assertEqual((out["written"], out["skipped"]), (1, 1))
        self.assertEqual(self.table.scan()["Count"], 61)

    def test_an_unreadable_file_raises_so_s3_retries(self):
        self.s3.put_object(Bucket="uploads", Key="c.txt", Body=b"x")
        with self.assertRaises(ValueError):
            self.app.handler(s3_event("uploads", "c.txt"), None)


if __name__ == "__main__":
    unittest.main()
