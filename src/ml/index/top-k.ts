/** Keeps the k best (highest score) items seen; k is small (≤ a few hundred), so insertion into a sorted array wins. */
export class TopK {
  readonly ids: number[] = [];
  readonly scores: number[] = [];

  constructor(readonly k: number) {}

  get worst(): number {
    return this.ids.length < this.k ? -Infinity : this.scores[this.scores.length - 1];
  }

  push(id: number, score: number): void {
    if (this.k <= 0 || score <= this.worst) return;
    let i = this.scores.length;
    while (i > 0 && this.scores[i - 1] < score) i--;
    this.scores.splice(i, 0, score);
    this.ids.splice(i, 0, id);
    if (this.ids.length > this.k) {
      this.ids.pop();
      this.scores.pop();
    }
  }

  result(): Array<{ id: number; score: number }> {
    return this.ids.map((id, i) => ({ id, score: this.scores[i] }));
  }
}
