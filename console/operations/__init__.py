"""Operations: wizards (drain, rejoin, ...) as checked steps, and audited worker changes."""
