"""Telling the world that feeds changed: WebSub hubs."""
