"""The baseline a user would pick instead: LlamaIndex's default `VectorStoreIndex` retriever over
the same Chroma collection and the same embedder, with the access filter as MetadataFilters."""

from __future__ import annotations

import time

from assistant import access
from assistant.schema import Passage


class LlamaIndexRetriever:
    """Same interface as assistant.retrieval.Retriever.retrieve (filters other than access ignored)."""

    def __init__(self, store, embedder_path: str, settings):
        from llama_index.core import VectorStoreIndex
        from llama_index.embeddings.huggingface import HuggingFaceEmbedding
        from llama_index.vector_stores.chroma import ChromaVectorStore

        self.settings = settings
        vector_store = ChromaVectorStore(chroma_collection=store.collection)
        embed = HuggingFaceEmbedding(model_name=embedder_path, device="cpu")
        self.index = VectorStoreIndex.from_vector_store(vector_store, embed_model=embed)

    def retrieve(self, query, role, filters=None, k=None, mode=None, rerank=None, timings=None):
        from llama_index.core.vector_stores import FilterOperator, MetadataFilter, MetadataFilters

        k = k or self.settings.top_k
        meta_filters = MetadataFilters(
            filters=[MetadataFilter(key="access", value=access.allowed_levels(role), operator=FilterOperator.IN)]
        )
        t0 = time.perf_counter()
        nodes = self.index.as_retriever(similarity_top_k=k, filters=meta_filters).retrieve(query)
        if timings is not None:
            timings["retrieve_ms"] = (time.perf_counter() - t0) * 1000
        out = []
        for n in nodes:
            meta = dict(n.node.metadata)
            out.append(Passage(chunk_id=n.node.node_id, text=n.node.get_content(), meta=meta, score=float(n.score or 0), dense=float(n.score or 0)))
        return access.visible(out, role)
