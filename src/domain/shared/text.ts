/**
 * The number of characters (Unicode code points) in `text`, as JSON Schema's minLength and
 * maxLength count them and as "at most N characters" reads: `String.length` counts UTF-16
 * units, two for every character outside the Basic Multilingual Plane (an emoji).
 */
export const characterCount = (text: string): number => {
  let count = text.length;
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    if (unit >= 0xd800 && unit <= 0xdbff && i + 1 < text.length) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        count--;
        i++;
      }
    }
  }
  return count;
};
