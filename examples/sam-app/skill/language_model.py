"""The language model the skill asks, behind a small interface so tests (and
other providers) can replace it."""

import json
import os
import urllib.request


class LanguageModel:
    """Anything with `answer(question) -> str`."""

    def answer(self, question):
        raise NotImplementedError


class HttpLanguageModel(LanguageModel):
    """Posts {"question": ...} to LLM_API_URL and reads {"answer": ...} back.

    The key comes from LLM_API_KEY in the function's environment (set at
    deploy time from a secret store) and is sent as a bearer token.
    """

    def __init__(self, url=None, api_key=None, timeout=4.0):
        self.url = url or os.environ.get("LLM_API_URL", "")
        self.api_key = api_key or os.environ.get("LLM_API_KEY", "")
        self.timeout = timeout

    def answer(self, question):
        if not self.url:
            raise RuntimeError("LLM_API_URL is not set")
        request = urllib.request.Request(
            self.url,
            data=json.dumps({"question": question}).encode("utf-8"),
            headers={"content-type": "application/json", "authorization": "Bearer " + self.api_key},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=self.timeout) as response:
            return json.loads(response.read())["answer"]
