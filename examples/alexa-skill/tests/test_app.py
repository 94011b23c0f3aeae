import os
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "src"))

import app  # noqa: E402
from language_model import LanguageModel  # noqa: E402


class CannedModel(LanguageModel):
    def __init__(self, answer=None, fail=False):
        self.questions = []
        self._answer = answer
        self._fail = fail

    def answer(self, question):
        self.questions.append(question)
        if self._fail:
            raise TimeoutError("model timed out")
        return self._answer


def intent(name, **slots):
    return {
        "version": "1.0",
        "request": {
            "type": "IntentRequest",
            "intent": {"name": name, "slots": {k: {"name": k, "value": v} for k, v in slots.items()}},
        },
    }


def text(response):
    return response["response"]["outputSpeech"]["text"]


class SkillTest(unittest.TestCase):
    def setUp(self):
        self.original = app.model

    def tearDown(self):
        app.model = self.original

    def test_launch_welcomes(self):
        r = app.handler({"request": {"type": "LaunchRequest"}}, None)
        self.assertIn("Welcome", text(r))
        self.assertFalse(r["response"]["shouldEndSession"])

    def test_questions_go_to_the_model(self):
        app.model = CannedModel("Mount Everest.")
        r = app.handler(intent("AskIntent", question="what is the tallest mountain"), None)
        self.assertEqual(text(r), "Mount Everest.")
        self.assertEqual(app.model.questions, ["what is the tallest mountain"])

    def test_model_failures_are_spoken_politely(self):
        app.model = CannedModel(fail=True)
        r = app.handler(intent("AskIntent", question="why"), None)
        self.assertIn("can't answer", text(r))
        self.assertTrue(r["response"]["shouldEndSession"])

    def test_long_answers_are_cut(self):
        app.model = CannedModel("x" * 5000)
        r = app.handler(intent("AskIntent", question="q"), None)
        self.assertEqual(len(text(r)), app.MAX_SPOKEN_CHARS)

    def test_stop_and_help(self):
        self.assertTrue(app.handler(intent("AMAZON.StopIntent"), None)["response"]["shouldEndSession"])
        self.assertIn("Ask me", text(app.handler(intent("AMAZON.HelpIntent"), None)))


if __name__ == "__main__":
    unittest.main()
