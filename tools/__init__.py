"""Installer and developer tools."""
