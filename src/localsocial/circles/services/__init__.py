"""Every write in circles, one module per part:

* ``ledger``      tokens: transfers, reversals, accounts
* ``membership``  circles, joining (online and assisted), membership years, payments
"""
