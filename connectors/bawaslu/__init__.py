"""Bawaslu ⇄ Kawal: signed webhooks from Bawaslu's case system in, status callbacks out.

``bawaslu-webhook`` (:class:`connectors.bawaslu.connector.BawasluWebhook`) hosts the webhook
intake Bawaslu's system posts reports and findings to, spools every accepted post and maps it
to case events; ``bawaslu-callback`` (:class:`connectors.bawaslu.connector.BawasluCallback`)
posts the entries of Bawaslu's outbound feed back as status updates.
"""
