"""An Alexa skill: a welcome on launch, answers to AskIntent questions from a
language model, help, and a goodbye on stop or cancel."""

import logging
import os

from language_model import HttpLanguageModel

logger = logging.getLogger()
SKILL_NAME = os.environ.get("SKILL_NAME", "Quick Answers")
MAX_SPOKEN_CHARS = 600

# Replaced by tests; made once per execution environment.
model = HttpLanguageModel()


def speak(text, end_session, reprompt=None):
    response = {"outputSpeech": {"type": "PlainText", "text": text}, "shouldEndSession": end_session}
    if reprompt:
        response["reprompt"] = {"outputSpeech": {"type": "PlainText", "text": reprompt}}
    return {"version": "1.0", "sessionAttributes": {}, "response": response}


def slot_value(intent, name):
    return ((intent.get("slots") or {}).get(name) or {}).get("value")


def on_intent(intent):
    name = intent.get("name")
    if name == "AskIntent":
        question = slot_value(intent, "question")
        if not question:
            return speak("What would you like to know?", False, "Ask me a question.")
        try:
            answer = model.answer(question)
        except Exception:
            logger.exception("the language model failed")
            return speak("Sorry, I can't answer that right now.", True)
        return speak(answer[:MAX_SPOKEN_CHARS], False, "Anything else?")
    if name == "AMAZON.HelpIntent":
        return speak("Ask me any question, for example: what is the tallest mountain?", False, "What would you like to know?")
    if name in ("AMAZON.StopIntent", "AMAZON.CancelIntent"):
        return speak("Goodbye!", True)
    return speak("Sorry, I didn't get that. Try asking a question.", False)


def handler(event, context):
    request = event.get("request", {})
    kind = request.get("type")
    if kind == "LaunchRequest":
        return speak("Welcome to %s. What would you like to know?" % SKILL_NAME, False, "Ask me a question.")
    if kind == "IntentRequest":
        return on_intent(request.get("intent", {}))
    if kind == "SessionEndedRequest":
        return {"version": "1.0", "response": {}}
    return speak("Sorry, I can't handle that request.", True)
