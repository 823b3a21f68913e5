"""BKN's SIASN ⇄ Kawal: the ``siasn`` connector writes what BKN's outbound feed calls for.

Cases are linked to the civil servant, personnel data blocked when a PPK lets the follow-up
deadline pass, sanctions recorded (lifting the block) and blocks released when a case closes;
see :mod:`connectors.siasn.connector` for which entries do what, and why. The
``siasn-blocks`` connector (:mod:`connectors.siasn.blocks`) reads back SIASN's log of the
blocks it applied and lifted and publishes them as ``PersonnelDataBlocked`` and
``PersonnelDataUnblocked``.
"""
