import os
import sys
import unittest

import support
from support import boto3, mock_aws

sys.path.insert(0, os.path.join(support.HERE, "..", "local"))
import fake_model_server  # noqa: E402

SKILL = "amzn1.ask.skill.00000000-0000-0000-0000-000000000000"


def intent_event(question, skill=SKILL):
    return {
        "version": "1.0",
        "session": {"application": {"applicationId": skill}},
        "context": {"System": {"application": {"applicationId": skill}}},
        "request": {"type": "IntentRequest", "intent": {"name": "AskIntent", "slots": {"question": {"name": "question", "value": question}}}},
    }


class Context:
    def __init__(self, remaining_ms=8000):
        self.remaining_ms = remaining_ms

    def get_remaining_time_in_millis(self):
        return self.remaining_ms


@mock_aws
class AssistantTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = fake_model_server.serve(0, "test-key", slow_seconds=5)

    @classmethod
    def tearDownClass(cls):
        cls.server.shutdown()

    def setUp(self):
        secret = boto3.client("secretsmanager").create_secret(Name="llm-key", SecretString="test-key")
        os.environ.update({
            "SKILL_ID": SKILL,
            "LLM_BASE_URL": "http://127.0.0.1:%d/v1" % self.server.server_address[1],
            "LLM_MODEL": "local-model",
            "LLM_API_KEY_SECRET_ID": secret["ARN"],
            "LLM_TIMEOUT_SECONDS": "1",
        })
        self.app = support.load("assistant")

    def speech(self, out):
        return out["response"]["outputSpeech"]["text"]

    def test_answers_from_the_model(self):
        out = self.app.handler(intent_event("what is the meaning of life?"), Context())
        self.assertEqual(self.speech(out), "The answer to 'what is the meaning of life' is forty-two.")

    def test_a_slow_model_gets_the_spoken_fallback_in_time(self):
        out = self.app.handler(intent_event("a slow question"), Context())
        self.assertEqual(self.speech(out), self.app.FALLBACK)

    def test_a_wrong_key_gets_the_fallback(self):
        boto3.client("secretsmanager").put_secret_value(SecretId="llm-key", SecretString="wrong")
        out = self.app.handler(intent_event("anything"), Context())
        self.assertEqual(self.speech(out), self.app.FALLBACK)

    def test_another_skill_is_refused(self):
        with self.assertRaises(PermissionError):
            self.app.handler(intent_event("hi", skill="amzn1.ask.skill.other"), Context())


if __name__ == "__main__":
    unittest.main()
