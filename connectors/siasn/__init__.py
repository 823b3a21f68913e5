"""BKN's SIASN ⇄ Kawal: sanctions recorded and personnel data blocked in SIASN."""
