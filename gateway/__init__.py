"""Telegram for the product: the only package that talks to Telethon."""
