"""Amounts as a voice says them: "25 dollars", "1 euro and 50 cents", "1 bit", "3 viewers"."""

from __future__ import annotations

# Spoken names per ISO code: (one, many, one minor unit, many minor units or None).
CURRENCIES: dict[str, tuple[str, str, str | None, str | None]] = {
    "USD": ("dollar", "dollars", "cent", "cents"),
    "CAD": ("Canadian dollar", "Canadian dollars", "cent", "cents"),
    "AUD": ("Australian dollar", "Australian dollars", "cent", "cents"),
    "NZD": ("New Zealand dollar", "New Zealand dollars", "cent", "cents"),
    "EUR": ("euro", "euros", "cent", "cents"),
    "GBP": ("pound", "pounds", "penny", "pence"),
    "CHF": ("Swiss franc", "Swiss francs", "centime", "centimes"),
    "JPY": ("yen", "yen", None, None),
    "KRW": ("won", "won", None, None),
    "BRL": ("real", "reais", "centavo", "centavos"),
    "MXN": ("peso", "pesos", "centavo", "centavos"),
    "INR": ("rupee", "rupees", "paisa", "paise"),
    "RUB": ("ruble", "rubles", "kopek", "kopeks"),
    "PLN": ("zloty", "zlotys", "grosz", "groszy"),
    "SEK": ("Swedish krona", "Swedish kronor", "ore", "ore"),
    "NOK": ("Norwegian krone", "Norwegian kroner", "ore", "ore"),
    "DKK": ("Danish krone", "Danish kroner", "ore", "ore"),
}
CURRENCY_SYMBOLS = {"$": "USD", "US$": "USD", "€": "EUR", "£": "GBP", "¥": "JPY", "R$": "BRL",
                    "₹": "INR", "C$": "CAD", "CA$": "CAD", "A$": "AUD", "₽": "RUB", "zł": "PLN", "₩": "KRW"}


def currency_code(currency: str) -> str:
    """ISO code for ``currency`` ("usd", "$", "€" -> USD, USD, EUR); unknown codes pass upper-cased."""
    symbol = currency.strip()
    return CURRENCY_SYMBOLS.get(symbol, symbol.upper())


def spoken_amount(amount: float, currency: str) -> str:
    """"25 dollars", "1 euro and 50 cents", "1000 yen"; unknown currencies: "12.50 XYZ"."""
    names = CURRENCIES.get(currency_code(currency))
    if names is None:
        return f"{amount:.2f}".removesuffix(".00") + f" {currency}"
    one, many, minor_one, minor_many = names
    cents = round(amount * 100) if minor_one else round(amount) * 100
    whole, minor = divmod(cents, 100)
    if whole and minor:
        return f"{whole} {one if whole == 1 else many} and {minor} {minor_one if minor == 1 else minor_many}"
    if minor:
        return f"{minor} {minor_one if minor == 1 else minor_many}"
    return f"{whole} {one if whole == 1 else many}"


def plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"
