"""Corpus BLEU computed by sacreBLEU (Post, 2018): the standard, comparable BLEU score (0..100)."""

import datasets
import evaluate
import sacrebleu


class Bleu(evaluate.Metric):
    def _info(self):
        return evaluate.MetricInfo(
            description="sacreBLEU corpus BLEU with its default 13a tokenization.",
            citation="Post, 2018. A Call for Clarity in Reporting BLEU Scores.",
            inputs_description="predictions: list of str; references: list of str (one reference each)",
            features=datasets.Features({"predictions": datasets.Value("string"),
                                        "references": datasets.Value("string")}),
        )

    def _compute(self, predictions, references, tokenize="13a"):
        result = sacrebleu.corpus_bleu(predictions, [references], tokenize=tokenize)
        return {"bleu": result.score, "bleu_brevity_penalty": result.bp}
