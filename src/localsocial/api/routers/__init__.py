"""One router per module, added to ``localsocial.api.api.api``."""
