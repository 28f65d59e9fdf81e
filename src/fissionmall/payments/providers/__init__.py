"""Payment providers: the sandbox and WeChat Pay, each meeting `core/payment_provider.py`; chosen in
`fissionmall.composition`."""
