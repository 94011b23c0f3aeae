"""The assistant: an Alexa skill that answers questions through a language
model behind an OpenAI-compatible chat-completions endpoint.

Configuration (environment, set by the deployment, never in the package):
    SKILL_ID               the Alexa skill allowed to call this function
    LLM_BASE_URL           the endpoint's base URL, e.g. https://llm.example/v1
    LLM_MODEL              the model name to ask
    LLM_API_KEY_SECRET_ID  the Secrets Manager secret holding the API key
    LLM_TIMEOUT_SECONDS    at most this long per answer (default 5; Alexa
                           gives a skill 8 seconds, so the fallback is always
                           spoken in time)

The trigger's permission already limits invocations to SKILL_ID (the Lambda
permission's EventSourceToken); the check here is the second line, for
direct invocations with a forged event.
"""

import json
import logging
import os
import urllib.error
import urllib.request

import boto3

logger = logging.getLogger()
logger.setLevel(logging.INFO)

SKILL_ID = os.environ.get("SKILL_ID", "")
LLM_BASE_URL = os.environ.get("LLM_BASE_URL", "").rstrip("/")
LLM_MODEL = os.environ.get("LLM_MODEL", "")
LLM_API_KEY_SECRET_ID = os.environ.get("LLM_API_KEY_SECRET_ID", "")
LLM_TIMEOUT_SECONDS = float(os.environ.get("LLM_TIMEOUT_SECONDS", "5"))
# Time kept back for speaking the fallback when the model is slow.
RESERVE_MS = 1500
MAX_SPOKEN_CHARS = 600
FALLBACK = "Sorry, I can't answer that right now. Please try again in a moment."
SYSTEM_PROMPT = (
    "You answer questions asked through a voice assistant. Answer in at most "
    "three short spoken sentences, with no markup."
)

_api_key = None


def api_key():
    """Read from Secrets Manager once per execution environment."""
    global _api_key
    if _api_key is None:
        secret = boto3.client("secretsmanager").get_secret_value(SecretId=LLM_API_KEY_SECRET_ID)
        _api_key = secret["SecretString"].strip()
    return _api_key


def ask_model(question, timeout):
    body = {
        "model": LLM_MODEL,
        "messages": [{"role": "system", "content": SYSTEM_PROMPT}, {"role": "user", "content": question}],
        "temperature": 0,
        "max_tokens": 200,
    }
    request = urllib.request.Request(
        LLM_BASE_URL + "/chat/completions",
        data=json.dumps(body).encode("utf-8"),
        headers={"content-type": "application/json", "authorization": "Bearer " + api_key()},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=timeout) as response:
        reply = json.loads(response.read())
    text = reply["choices"][0]["message"]["content"].strip()
    if not text:
        raise ValueError("the model answered with nothing")
    return text


def speak(text, end_session, reprompt=None):
    response = {"outputSpeech": {"type": "PlainText", "text": text}, "shouldEndSession": end_session}
    if reprompt:
        response["reprompt"] = {"outputSpeech": {"type": "PlainText", "text": reprompt}}
    return {"version": "1.0", "sessionAttributes": {}, "response": response}


def application_id(event):
    session = (event.get("session") or {}).get("application") or {}
    system = ((event.get("context") or {}).get("System") or {}).get("application") or {}
    return session.get("applicationId") or system.get("applicationId")


def answer(question, context):
    timeout = LLM_TIMEOUT_SECONDS
    if context is not None and hasattr(context, "get_remaining_time_in_millis"):
        timeout = min(timeout, max(0.5, (context.get_remaining_time_in_millis() - RESERVE_MS) / 1000.0))
    try:
        return speak(ask_model(question, timeout)[:MAX_SPOKEN_CHARS], False, "Anything else?")
    except (urllib.error.URLError, TimeoutError, OSError, ValueError, KeyError, IndexError) as e:
        logger.warning("the language model did not answer: %s", e)
        return speak(FALLBACK, False, "Ask me another question.")


def on_intent(intent, context):
    name = intent.get("name")
    if name == "AskIntent":
        question = ((intent.get("slots") or {}).get("question") or {}).get("value")
        if not question:
            return speak("What would you like to know?", False, "Ask me a question.")
        return answer(question, context)
    if name == "AMAZON.HelpIntent":
        return speak("Ask me any question, for example: what is the tallest mountain?", False, "What would you like to know?")
    if name in ("AMAZON.StopIntent", "AMAZON.CancelIntent"):
        return speak("Goodbye!", True)
    return speak("Sorry, I didn't get that. Try asking a question.", False)


def handler(event, context):
    if SKILL_ID and application_id(event) != SKILL_ID:
        # Not a request from our skill: refuse loudly rather than answer.
        raise PermissionError("request from application %r, not this skill" % application_id(event))
    request = event.get("request") or {}
    kind = request.get("type")
    if kind == "LaunchRequest":
        return speak("Welcome. What would you like to know?", False, "Ask me a question.")
    if kind == "IntentRequest":
        return on_intent(request.get("intent") or {}, context)
    if kind == "SessionEndedRequest":
        return {"version": "1.0", "response": {}}
    return speak("Sorry, I can't handle that request.", True)
