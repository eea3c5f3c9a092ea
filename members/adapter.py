"""allauth's account adapter, with the shop's answer to "who is asking": the visitor's address
as wholesale.geo finds it (X-Forwarded-For believed only from WHOLESALE_TRUSTED_PROXIES), so
allauth's rate limits, the shop's own (subscriptions, inquiries) and the visitor's country all
see the same address."""

from allauth.account.adapter import DefaultAccountAdapter

from wholesale.geo import client_ip


class AccountAdapter(DefaultAccountAdapter):
    def get_client_ip(self, request) -> str:
        return client_ip(request)
