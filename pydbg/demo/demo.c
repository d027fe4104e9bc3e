/* pydbg's demo program: small enough to read, rich enough to show a debugger at work.
   Try: break add / run / info registers rip / x/4i $pc / continue / info breakpoints */
#include <stdio.h>

struct point {
    int x;
    int y;
};

int calls = 0;
const char message[] = "hello from the demo";

int add(int a, int b)
{
    int sum = a + b;
    calls++;
    return sum;
}

int scale(struct point *p, int factor)
{
    p->x = add(p->x, p->x * (factor - 1));
    p->y = add(p->y, p->y * (factor - 1));
    return p->x + p->y;
}

int main(void)
{
    struct point p = {3, 4};
    int total = 0;
    for (int i = 1; i <= 3; i++)
        total += scale(&p, 2);
    printf("%s: total=%d calls=%d\n", message, total, calls);
    return 0;
}
