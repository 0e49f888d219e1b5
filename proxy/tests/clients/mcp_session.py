"""An MCP session with the official MCP Python SDK (streamable HTTP) through PromptWall.

Usage: mcp_session.py URL SECRET. Prints one JSON object: the tools listed, a clean call's
text, and what a call carrying SECRET in its arguments came back with."""

import asyncio
import json
import sys

from mcp import ClientSession
from mcp.client.streamable_http import streamable_http_client


async def main(url: str, secret: str) -> dict:
    out = {}
    async with streamable_http_client(url) as streams:
        read, write = streams[0], streams[1]
        async with ClientSession(read, write) as session:
            await session.initialize()
            tools = await session.list_tools()
            out["tools"] = [t.name for t in tools.tools]
            clean = await session.call_tool("search_wiki", {"query": "refund policy"})
            out["clean"] = clean.content[0].text
            try:
                r = await session.call_tool("search_wiki", {"query": f"key {secret}"})
                out["secret"] = {"result": [c.text for c in r.content], "is_error": r.isError}
            except Exception as e:  # the SDK raises McpError for a JSON-RPC error
                out["secret"] = {"error": type(e).__name__, "message": str(e)}
    return out


print(json.dumps(asyncio.run(main(sys.argv[1], sys.argv[2]))))
