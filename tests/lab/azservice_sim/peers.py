# -*- coding: utf-8 -*-
# Copyright (c) 2026, kfuse.failover contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Calls from one simulated az-service to the az-service of another namespace (source pause on activate)."""

import asyncio
import json
import ssl

import aiohttp


class PeerUnreachable(Exception):
    """The peer could not be reached or did not answer."""


class PeerClient:
    """Knows the URL (and optional token) of the az-service of other namespaces."""

    def __init__(self, urls, tokens=None, ca_file=None, timeout=15.0):
        self.urls = dict(urls)
        self.tokens = dict(tokens or {})
        self.timeout = timeout
        self._ssl = ssl.create_default_context(cafile=ca_file) if ca_file else None

    def knows(self, namespace):
        return namespace in self.urls

    async def pause(self, namespace, force):
        """POST <peer>/pause?force=...; return (status, parsed body or text)."""
        url = self.urls[namespace].rstrip("/") + "/pause"
        headers = {"Accept": "application/json"}
        if self.tokens.get(namespace):
            headers["Authorization"] = "Bearer " + self.tokens[namespace]
        timeout = aiohttp.ClientTimeout(total=self.timeout)
        try:
            async with aiohttp.ClientSession(timeout=timeout) as session:
                async with session.post(url, params={"force": "true" if force else "false"}, headers=headers,
                                        ssl=self._ssl if self._ssl is not None else True) as response:
                    text = await response.text()
                    try:
                        body = json.loads(text)
                    except ValueError:
                        body = text
                    return response.status, body
        except (aiohttp.ClientError, asyncio.TimeoutError, OSError) as exc:
            raise PeerUnreachable(str(exc) or type(exc).__name__) from exc
