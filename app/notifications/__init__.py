"""Notifications: people are told by e-mail and on their dashboard when something concerns them.

Decoupled from the features: the scheduler reads new audit events and turns them into notifications with the
pure rules in `rules.py`, reminds people of deadlines, and sends the e-mails. Nothing is sent in a web request.
"""
