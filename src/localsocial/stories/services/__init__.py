"""Every write in the stories module, one file per part:

* ``common``      secrets, person keys, progress
* ``listing``     the per-list index rows (``StoryListing``)
* ``events``      what happens when a story or response is published (alerts, webhooks, followers)
* ``submission``  telling a story, the author's private link, editing and withdrawing
* ``moderation``  the queue's decisions, holding, provider notice, restriction
* ``reading``     staff reads, "me too", following
* ``responses``   responses, author replies, changes, helpful ratings, templates
* ``alerts``      staff alert subscriptions and their emails
"""
